import { ISignal, Signal } from '@lumino/signaling';

/**
 * One shared second-by-second tick for live durations: it runs only while
 * something listens, so a panel without running jobs costs no timer.
 */
class Ticker {
  /** Emits about once a second while connected to. */
  get ticked(): ISignal<this, void> {
    return this._ticked;
  }

  /** Start listening; returns the function that stops. */
  subscribe(listener: () => void): () => void {
    this._ticked.connect(listener);
    this._listeners += 1;
    if (this._timer === null) {
      this._timer = setInterval(() => this._ticked.emit(), 1000);
    }
    return () => {
      this._ticked.disconnect(listener);
      this._listeners -= 1;
      if (this._listeners === 0 && this._timer !== null) {
        clearInterval(this._timer);
        this._timer = null;
      }
    };
  }

  private _listeners = 0;
  private _timer: ReturnType<typeof setInterval> | null = null;
  private _ticked = new Signal<this, void>(this);
}

export const ticker = new Ticker();
