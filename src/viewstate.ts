import { ISignal, Signal } from '@lumino/signaling';

import { GroupFilter } from './filter';

/**
 * What the Background Jobs panel shows: the group filter, the search text,
 * which rows are open and which sections are folded. View state only: the
 * jobs themselves live in the model.
 */
export class JobsViewState {
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get group(): GroupFilter {
    return this._group;
  }

  set group(group: GroupFilter) {
    if (group !== this._group) {
      this._group = group;
      this._changed.emit();
    }
  }

  get query(): string {
    return this._query;
  }

  set query(query: string) {
    if (query !== this._query) {
      this._query = query;
      this._changed.emit();
    }
  }

  isExpanded(uid: string): boolean {
    return this._expanded.has(uid);
  }

  toggleExpanded(uid: string): void {
    if (!this._expanded.delete(uid)) {
      this._expanded.add(uid);
    }
    this._changed.emit();
  }

  isCollapsed(sectionKey: string): boolean {
    return this._collapsed.has(sectionKey);
  }

  toggleCollapsed(sectionKey: string): void {
    if (!this._collapsed.delete(sectionKey)) {
      this._collapsed.add(sectionKey);
    }
    this._changed.emit();
  }

  /**
   * Make one job visible and open: clear what would hide it, unfold its
   * section, open its row.
   */
  reveal(uid: string, sectionKey: string | null, visible: boolean): void {
    if (!visible) {
      this._group = 'all';
      this._query = '';
    }
    if (sectionKey !== null) {
      this._collapsed.delete(sectionKey);
    }
    this._expanded.add(uid);
    this._changed.emit();
  }

  private _group: GroupFilter = 'all';
  private _query = '';
  private _expanded = new Set<string>();
  private _collapsed = new Set<string>();
  private _changed = new Signal<this, void>(this);
}
