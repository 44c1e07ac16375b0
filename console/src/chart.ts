import { h } from './dom.js';

/**
 * Coefficients as a horizontal bar chart, drawn as SVG by hand: one chart of one
 * kind does not pay for a charting library (the smallest worth using, uPlot, is
 * ~20 KB gzipped, more than this whole console's code), and SVG text is read by
 * screen readers and scales with the page at phone width.
 */
export function coefficientChart(names: string[], values: number[]): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const rowHeight = 26;
  const labelWidth = 120;
  const width = 480;
  const plot = width - labelWidth - 70;
  const largest = Math.max(...values.map(Math.abs), Number.MIN_VALUE);
  const hasNegative = values.some((value) => value < 0);
  // With negative coefficients the zero line sits in the middle of the plot.
  const zero = labelWidth + (hasNegative ? plot / 2 : 0);
  const scale = (hasNegative ? plot / 2 : plot) / largest;
  const svg = document.createElementNS(ns, 'svg');
  const height = rowHeight * values.length + 8;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `Coefficients: ${names.map((name, i) => `${name} ${format(values[i] as number)}`).join(', ')}`);
  svg.setAttribute('width', '100%');
  const add = (tag: string, attributes: Record<string, string | number>, text?: string) => {
    const node = document.createElementNS(ns, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    svg.appendChild(node);
  };
  values.forEach((value, i) => {
    const y = 4 + i * rowHeight;
    const length = Math.abs(value) * scale;
    add('text', { x: labelWidth - 6, y: y + 16, 'text-anchor': 'end' }, truncate(names[i] ?? `x${i}`));
    add('rect', { x: value < 0 ? zero - length : zero, y: y + 3, width: Math.max(length, 1), height: rowHeight - 8, fill: value < 0 ? '#b3261e' : '#0b57d0' });
    add('text', { x: value < 0 ? zero + 4 : zero + length + 4, y: y + 16 }, format(value));
  });
  add('line', { x1: zero, x2: zero, y1: 0, y2: height, stroke: '#555' });
  return svg;
}

function truncate(name: string): string {
  return name.length > 16 ? `${name.slice(0, 15)}…` : name;
}

export function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(6).replace(/\.?0+$/, '');
}

/** Colour is not the only cue: the sign is printed beside each bar too. */
export const legend = () => h('p', { class: 'muted' }, 'Blue: positive, red: negative.');
