import { CELL_TEXT, type CsvHeaderInfo, type NumericCsvSink, type RowCells } from './csv.js';
import { type Design, type DesignColumn, encodeRow } from './design.js';
import { TrainingFailed } from './errors.js';
import { RegressionAccumulator } from './regression.js';

/**
 * The design pass of a dataset job (lambdas/commons/datasets/training.ts): the rows
 * of its file, as the CSV reader hands them, into the accumulator of its design. A
 * row with a missing value in the target or a feature is left out (R's `na.omit`);
 * every other becomes its design row (design.ts `encodeRow`), as R's model.matrix
 * builds it. `rows` counts every row read, so rows left out are `rows - accumulator.count`.
 */
export class DesignSink implements NumericCsvSink {
  readonly accumulator: RegressionAccumulator;
  rows = 0;
  private readonly x: Float64Array;
  private cells: RowCells | undefined;
  private values: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private readonly value: (column: DesignColumn) => number | string | undefined;

  constructor(
    private readonly design: Design,
    /** The dataset's columns as validated: a file whose header differs is refused. */
    private readonly columns: readonly string[],
    fitIntercept: boolean,
  ) {
    this.accumulator = new RegressionAccumulator(design.names.length, fitIntercept);
    this.x = new Float64Array(design.names.length);
    // A number column's cell is its value (NaN when missing); a category's is its text (undefined when missing).
    this.value = (column) => {
      if (column.type === 'number') return this.values[column.index];
      return this.cells?.kinds[column.index] === CELL_TEXT ? this.cells.texts[column.index] : undefined;
    };
  }

  header(columns: readonly string[], _info: CsvHeaderInfo): void {
    if (columns.length !== this.columns.length || columns.some((name, i) => name !== this.columns[i])) {
      throw new TrainingFailed('INVALID_DATA', 'the dataset header differs from the one validated');
    }
  }

  row(values: Float64Array, _line: number, cells?: RowCells): void {
    this.rows++;
    const y = values[this.design.target.index]!;
    if (Number.isNaN(y)) return;
    this.values = values;
    this.cells = cells;
    if (encodeRow(this.design.columns, this.value, this.x)) this.accumulator.add(this.x, y);
  }
}
