import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * Charts for the soak reports: a Vega-Lite specification rendered to a standalone SVG file, without a
 * browser or canvas, so a report in docs/ shows it inline (`![...](name.svg)`).
 */
export async function chartSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function writeChart(file: string, spec: TopLevelSpec): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, await chartSvg(spec));
}

/** Points of a series over time, with the moments something was done to the system drawn as rules. */
export type Timeline = {
  title: string;
  /** One row per point: seconds since the start, the series it belongs to, its value. */
  points: { second: number; series: string; value: number }[];
  yTitle: string;
  /** Faults (or phases) at their second, labelled. */
  marks?: { second: number; label: string }[];
  /** A horizontal line, such as a target (500 ms). */
  threshold?: { value: number; label: string };
  logScale?: boolean;
};

export function timelineSpec(timeline: Timeline): TopLevelSpec {
  const x = { field: 'second', type: 'quantitative' as const, title: 'seconds since the start' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: timeline.title,
    width: 900,
    height: 320,
    layer: [
      {
        data: { values: timeline.points },
        mark: { type: 'line', point: false },
        encoding: {
          x,
          y: {
            field: 'value',
            type: 'quantitative',
            title: timeline.yTitle,
            scale: timeline.logScale ? { type: 'symlog' } : {},
          },
          color: { field: 'series', type: 'nominal', title: null },
        },
      },
      ...(timeline.marks?.length
        ? [
            {
              data: { values: timeline.marks },
              mark: { type: 'rule', color: '#c0392b', strokeDash: [4, 3] },
              encoding: { x },
            },
            {
              data: { values: timeline.marks },
              mark: { type: 'text', angle: 270, align: 'right', dx: -2, dy: -4, fontSize: 9, color: '#c0392b' },
              encoding: { x, y: { value: 2 }, text: { field: 'label' } },
            },
          ]
        : []),
      ...(timeline.threshold
        ? [
            {
              data: { values: [timeline.threshold] },
              mark: { type: 'rule', color: '#7f8c8d', strokeDash: [2, 2] },
              encoding: { y: { field: 'value', type: 'quantitative' } },
            },
          ]
        : []),
    ],
  } as TopLevelSpec;
}
