import { color256, IAnsiSegment, parseAnsi, stripAnsi } from '../ansi';

/** Segments as [text, what is styled] for short expectations. */
function brief(segments: IAnsiSegment[]): [string, string][] {
  return segments.map(({ text, style }) => {
    const parts: string[] = [];
    if (style.fg) {
      parts.push(
        'index' in style.fg ? `fg${style.fg.index}` : `fg(${style.fg.rgb})`
      );
    }
    if (style.bg) {
      parts.push(
        'index' in style.bg ? `bg${style.bg.index}` : `bg(${style.bg.rgb})`
      );
    }
    for (const flag of [
      'bold',
      'dim',
      'italic',
      'underline',
      'inverse'
    ] as const) {
      if (style[flag]) {
        parts.push(flag);
      }
    }
    return [text, parts.join(' ')];
  });
}

describe('parseAnsi', () => {
  it('keeps plain text as one plain segment', () => {
    expect(brief(parseAnsi('hello\nworld'))).toEqual([['hello\nworld', '']]);
  });

  it('turns SGR colours and attributes into styles and resets them', () => {
    expect(
      brief(parseAnsi('\x1b[0;31mValueError\x1b[0m: \x1b[1;92mbad\x1b[39m!'))
    ).toEqual([
      ['ValueError', 'fg1'],
      [': ', ''],
      ['bad', 'fg10 bold'],
      ['!', 'bold']
    ]);
  });

  it('reads an IPython traceback line as IPython colours it', () => {
    const line =
      '\x1b[0;32m<ipython-input-1>\x1b[0m in \x1b[0;36m<module>\x1b[0;34m()\x1b[0m';
    expect(brief(parseAnsi(line))).toEqual([
      ['<ipython-input-1>', 'fg2'],
      [' in ', ''],
      ['<module>', 'fg6'],
      ['()', 'fg4']
    ]);
  });

  it('reads 256-colour and true-colour sequences', () => {
    expect(
      brief(parseAnsi('\x1b[38;5;208mA\x1b[48;2;10;20;30mB\x1b[38;5;3mC'))
    ).toEqual([
      ['A', 'fg(255,135,0)'],
      ['B', 'fg(255,135,0) bg(10,20,30)'],
      ['C', 'fg3 bg(10,20,30)']
    ]);
    expect(color256(244)).toEqual({ rgb: [128, 128, 128] });
  });

  it('ignores colour values out of range instead of passing them on', () => {
    expect(brief(parseAnsi('\x1b[38;2;999;0;0mX\x1b[38;5;300mY'))).toEqual([
      ['XY', '']
    ]);
  });

  it('drops cursor moves, titles, hyperlinks and other control characters', () => {
    const text =
      '\x1b]0;window title\x07\x1b[2K\x1b[1Ga\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\\x00\x07b\x1b';
    expect(stripAnsi(text)).toBe('alinkb');
  });

  it('rewinds to the start of the line at a carriage return', () => {
    expect(stripAnsi('step 1\rstep 2\rstep 3\ndone\r\n')).toBe(
      'step 3\ndone\n'
    );
    expect(brief(parseAnsi('\x1b[31m10%\r\x1b[32m100%'))).toEqual([
      ['100%', 'fg2']
    ]);
  });

  it('leaves markup as text: there is no HTML in the output to inject', () => {
    const hostile =
      '<img src=x onerror=alert(1)>\x1b[31m<script>alert(2)</script>\x1b[0m';
    const segments = parseAnsi(hostile);
    expect(segments.map(s => s.text).join('')).toBe(
      '<img src=x onerror=alert(1)><script>alert(2)</script>'
    );
  });

  it('does not let parameters smuggle anything into a style', () => {
    // A malformed sequence stays visible as text; sub-parameters are dropped.
    const segments = parseAnsi(
      '\x1b[38;2;0;0;0);background:url(x)mA\x1b[38:2::1:2:3mB'
    );
    expect(brief(segments)).toEqual([
      ['[38;2;0;0;0);background:url(x)mAB', '']
    ]);
  });

  it('does not let an unterminated sequence hide the text after it', () => {
    expect(stripAnsi('before\x1b]0;after')).toBe('before0;after');
  });

  it('stays linear on pathological input', () => {
    const text =
      '\x1b['.repeat(50_000) +
      '\x1b]1'.repeat(50_000) +
      '\x1b[1;'.repeat(50_000);
    const started = Date.now();
    const plain = stripAnsi(text + '\nend');
    expect(plain.endsWith('end')).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
