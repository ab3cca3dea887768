import * as React from 'react';

import { AnsiColor, ANSI_COLOR_NAMES, IAnsiStyle, parseAnsi } from './ansi';

/**
 * Terminal text shown with its colours. Every piece of the text is a React
 * text node: whatever the job printed, it is never parsed as HTML.
 */
export function AnsiText(props: {
  text: string;
  className?: string;
}): JSX.Element {
  const segments = React.useMemo(() => parseAnsi(props.text), [props.text]);
  return (
    <pre className={`jp-bgjobs-ansi ${props.className ?? ''}`}>
      {segments.map((segment, index) => {
        const { className, style } = presentation(segment.style);
        if (!className && !style) {
          return segment.text;
        }
        return (
          <span key={index} className={className} style={style}>
            {segment.text}
          </span>
        );
      })}
    </pre>
  );
}

/** CSS classes for named colours and attributes; inline colours for RGB ones. */
function presentation(ansi: IAnsiStyle): {
  className: string;
  style: React.CSSProperties | undefined;
} {
  const fg = ansi.inverse ? ansi.bg : ansi.fg;
  const bg = ansi.inverse ? ansi.fg : ansi.bg;
  const classes: string[] = [];
  const style: React.CSSProperties = {};
  if (fg) {
    if ('index' in fg) {
      classes.push(colorClass(fg, 'fg'));
    } else {
      style.color = rgb(fg.rgb);
    }
  } else if (ansi.inverse) {
    classes.push('jp-bgjobs-ansi-inverse-fg');
  }
  if (bg) {
    if ('index' in bg) {
      classes.push(colorClass(bg, 'bg'));
    } else {
      style.backgroundColor = rgb(bg.rgb);
    }
  } else if (ansi.inverse) {
    classes.push('jp-bgjobs-ansi-inverse-bg');
  }
  for (const flag of ['bold', 'dim', 'italic', 'underline'] as const) {
    if (ansi[flag]) {
      classes.push(`jp-bgjobs-ansi-${flag}`);
    }
  }
  return {
    className: classes.join(' '),
    style: Object.keys(style).length > 0 ? style : undefined
  };
}

function colorClass(
  color: AnsiColor & { index: number },
  layer: string
): string {
  const name = ANSI_COLOR_NAMES[color.index % 8];
  const intense = color.index >= 8 ? '-intense' : '';
  return `jp-bgjobs-ansi-${name}${intense}-${layer}`;
}

/** Numbers only, checked by the parser to be bytes: nothing else reaches CSS. */
function rgb([r, g, b]: readonly [number, number, number]): string {
  return `rgb(${r}, ${g}, ${b})`;
}
