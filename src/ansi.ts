/**
 * Terminal text (tracebacks, output) as styled segments of plain text.
 *
 * Only SGR sequences (colours, bold, ...) become styles; every other escape
 * sequence (cursor moves, titles, hyperlinks) and every other control
 * character is dropped. The result is data for React to render as text
 * nodes: nothing here ever becomes HTML.
 */

/** One of the 16 named colours (0-7 normal, 8-15 bright), or an RGB triple. */
export type AnsiColor =
  { index: number } | { rgb: readonly [number, number, number] };

export interface IAnsiStyle {
  fg: AnsiColor | null;
  bg: AnsiColor | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
}

export interface IAnsiSegment {
  text: string;
  style: IAnsiStyle;
}

/** The names of the 8 basic colours, for CSS classes. */
export const ANSI_COLOR_NAMES = [
  'black',
  'red',
  'green',
  'yellow',
  'blue',
  'magenta',
  'cyan',
  'white'
] as const;

export const PLAIN_STYLE: IAnsiStyle = Object.freeze({
  fg: null,
  bg: null,
  bold: false,
  dim: false,
  italic: false,
  underline: false,
  inverse: false
});

/**
 * ESC followed by a CSI sequence (group 1: parameters, group 2: final
 * byte), an OSC sequence ended by BEL or ST, or a two-character escape.
 * An unterminated OSC loses only its ESC ], never the text after it. The
 * character classes cannot contain ESC, so a failed match stops at the
 * next one: linear time on any input.
 */
const ESCAPE =
  // eslint-disable-next-line no-control-regex
  /\x1b(?:\[([0-?]*)[ -/]*([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_]|$)/g;

/** Control characters other than tab and newline (carriage return is handled apart). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]/g;

/**
 * Split terminal text into styled segments.
 *
 * A carriage return that is not part of CRLF rewinds to the start of its
 * line, as a terminal shows a progress line rewritten in place.
 */
export function parseAnsi(text: string): IAnsiSegment[] {
  const out = new SegmentWriter();
  let style: IAnsiStyle = PLAIN_STYLE;
  let last = 0;
  ESCAPE.lastIndex = 0;
  for (let match = ESCAPE.exec(text); match; match = ESCAPE.exec(text)) {
    out.write(text.slice(last, match.index), style);
    last = ESCAPE.lastIndex;
    if (match[2] === 'm') {
      style = applySgr(style, match[1]);
    }
  }
  out.write(text.slice(last), style);
  return out.segments;
}

/** The plain text of terminal text: what `parseAnsi` shows, without styles. */
export function stripAnsi(text: string): string {
  return parseAnsi(text)
    .map(segment => segment.text)
    .join('');
}

/** Collects text per style, merging neighbours and honouring `\r`. */
class SegmentWriter {
  readonly segments: IAnsiSegment[] = [];

  write(raw: string, style: IAnsiStyle): void {
    if (!raw) {
      return;
    }
    const text = raw.replace(/\r\n/g, '\n').replace(CONTROL, '');
    const parts = text.split('\r');
    parts.forEach((part, index) => {
      if (index > 0) {
        this._rewindLine();
      }
      this._append(part, style);
    });
  }

  private _append(text: string, style: IAnsiStyle): void {
    if (!text) {
      return;
    }
    const previous = this.segments[this.segments.length - 1];
    if (previous && previous.style === style) {
      previous.text += text;
    } else {
      this.segments.push({ text, style });
    }
  }

  /** Drop what was written since the last newline. */
  private _rewindLine(): void {
    while (this.segments.length > 0) {
      const segment = this.segments[this.segments.length - 1];
      const newline = segment.text.lastIndexOf('\n');
      if (newline >= 0) {
        segment.text = segment.text.slice(0, newline + 1);
        return;
      }
      this.segments.pop();
    }
  }
}

/** The style after an SGR sequence with these parameters (`1;31`, `38;5;208`, ...). */
export function applySgr(style: IAnsiStyle, params: string): IAnsiStyle {
  if (!/^[\d;]*$/.test(params)) {
    // Colon sub-parameters or private markers: not worth guessing.
    return style;
  }
  const codes = params === '' ? [0] : params.split(';').map(Number);
  let next = { ...style };
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (code === 0) {
      next = { ...PLAIN_STYLE };
    } else if (code === 1) {
      next.bold = true;
    } else if (code === 2) {
      next.dim = true;
    } else if (code === 3) {
      next.italic = true;
    } else if (code === 4) {
      next.underline = true;
    } else if (code === 7) {
      next.inverse = true;
    } else if (code === 21 || code === 22) {
      next.bold = false;
      next.dim = false;
    } else if (code === 23) {
      next.italic = false;
    } else if (code === 24) {
      next.underline = false;
    } else if (code === 27) {
      next.inverse = false;
    } else if (code >= 30 && code <= 37) {
      next.fg = { index: code - 30 };
    } else if (code >= 90 && code <= 97) {
      next.fg = { index: code - 90 + 8 };
    } else if (code >= 40 && code <= 47) {
      next.bg = { index: code - 40 };
    } else if (code >= 100 && code <= 107) {
      next.bg = { index: code - 100 + 8 };
    } else if (code === 39) {
      next.fg = null;
    } else if (code === 49) {
      next.bg = null;
    } else if (code === 38 || code === 48) {
      const [color, used] = extendedColor(codes, i + 1);
      if (color) {
        if (code === 38) {
          next.fg = color;
        } else {
          next.bg = color;
        }
      }
      i += used;
    }
  }
  return sameStyle(next, style) ? style : next;
}

/** `5;n` (256 colours) or `2;r;g;b` at `codes[start]`; and how many codes it used. */
function extendedColor(
  codes: number[],
  start: number
): [AnsiColor | null, number] {
  const mode = codes[start];
  if (mode === 5) {
    const n = codes[start + 1];
    return [isByte(n) ? color256(n) : null, 2];
  }
  if (mode === 2) {
    const [r, g, b] = codes.slice(start + 1, start + 4);
    return [isByte(r) && isByte(g) && isByte(b) ? { rgb: [r, g, b] } : null, 4];
  }
  return [null, codes.length];
}

/** A colour of the xterm 256-colour palette. */
export function color256(n: number): AnsiColor {
  if (n < 16) {
    return { index: n };
  }
  if (n < 232) {
    const steps = [0, 95, 135, 175, 215, 255];
    const cube = n - 16;
    return {
      rgb: [
        steps[Math.floor(cube / 36)],
        steps[Math.floor(cube / 6) % 6],
        steps[cube % 6]
      ]
    };
  }
  const grey = 8 + (n - 232) * 10;
  return { rgb: [grey, grey, grey] };
}

function isByte(value: number | undefined): value is number {
  return (
    value !== undefined && Number.isInteger(value) && value >= 0 && value < 256
  );
}

function sameColor(a: AnsiColor | null, b: AnsiColor | null): boolean {
  if (a === null || b === null) {
    return a === b;
  }
  if ('index' in a && 'index' in b) {
    return a.index === b.index;
  }
  if ('rgb' in a && 'rgb' in b) {
    return a.rgb.every((value, i) => value === b.rgb[i]);
  }
  return false;
}

function sameStyle(a: IAnsiStyle, b: IAnsiStyle): boolean {
  return (
    sameColor(a.fg, b.fg) &&
    sameColor(a.bg, b.bg) &&
    a.bold === b.bold &&
    a.dim === b.dim &&
    a.italic === b.italic &&
    a.underline === b.underline &&
    a.inverse === b.inverse
  );
}
