// Request bodies and query parameters, checked as Google checks them, with
// Google's wording where it is known.

import { z } from 'zod';
import { inputCell, transpose, type Input, type RenderOption, type ValueInputOption } from './cells.js';
import { invalid } from './errors.js';

export const ValueRangeSchema = z.object({
  range: z.string().optional(),
  majorDimension: z.enum(['ROWS', 'COLUMNS', 'DIMENSION_UNSPECIFIED']).optional(),
  values: z.array(z.array(z.unknown())).optional(),
});
export type ValueRange = z.infer<typeof ValueRangeSchema>;

export const CreateSchema = z.object({
  properties: z.object({ title: z.string().optional() }).optional(),
  sheets: z
    .array(
      z.object({
        properties: z
          .object({
            title: z.string().min(1).optional(),
            sheetId: z.number().int().nonnegative().optional(),
            gridProperties: z.object({ rowCount: z.number().int().positive().optional(), columnCount: z.number().int().positive().optional() }).optional(),
          })
          .optional(),
      }),
    )
    .optional(),
});

export const BatchUpdateValuesSchema = z.object({
  valueInputOption: z.string().optional(),
  data: z.array(ValueRangeSchema).optional(),
  includeValuesInResponse: z.boolean().optional(),
  responseValueRenderOption: z.string().optional(),
  responseDateTimeRenderOption: z.string().optional(),
});

export const BatchUpdateSchema = z.object({
  // Each request sets exactly one kind; the kinds are checked one by one.
  requests: z.array(z.record(z.string(), z.unknown())).optional(),
  includeSpreadsheetInResponse: z.boolean().optional(),
  responseRanges: z.array(z.string()).optional(),
  responseIncludeGridData: z.boolean().optional(),
});

export const AppendDimensionSchema = z.object({
  sheetId: z.number().int().optional(),
  dimension: z.enum(['ROWS', 'COLUMNS', 'DIMENSION_UNSPECIFIED']).optional(),
  length: z.number().int().optional(),
});

/**
 * Checks a request body (a Buffer) or a part of one already parsed (`where`
 * names it, e.g. `requests[0].appendDimension`) against a schema: Google's 400
 * naming the first problem.
 */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown, where = ''): T {
  let json: unknown = body;
  if (Buffer.isBuffer(body)) {
    json = {};
    if (body.length > 0) {
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        throw invalid('Invalid JSON payload received. Unexpected token.');
      }
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = [where, ...(issue?.path ?? []).map(String)].filter((p) => p !== '').join('.');
    throw invalid(`Invalid JSON payload received. Invalid value at '${path}': ${issue?.message ?? 'not a valid request'}`);
  }
  return parsed.data;
}

export function valueInputOption(v: string | null | undefined): ValueInputOption {
  if (v === null || v === undefined || v === '' || v === 'INPUT_VALUE_OPTION_UNSPECIFIED') throw invalid("'valueInputOption' is required but not specified");
  if (v !== 'RAW' && v !== 'USER_ENTERED') throw invalid(`Invalid value at 'value_input_option' (type.googleapis.com/google.apps.sheets.v4.ValueInputOption), "${v}"`);
  return v;
}

export function renderOption(query: URLSearchParams): RenderOption {
  const v = query.get('valueRenderOption') ?? 'FORMATTED_VALUE';
  if (v !== 'FORMATTED_VALUE' && v !== 'UNFORMATTED_VALUE' && v !== 'FORMULA') throw invalid(`Invalid value at 'value_render_option' (type.googleapis.com/google.apps.sheets.v4.ValueRenderOption), "${v}"`);
  return v;
}

export function majorDimension(query: URLSearchParams): 'ROWS' | 'COLUMNS' {
  const v = query.get('majorDimension') ?? 'ROWS';
  if (v === 'ROWS' || v === 'DIMENSION_UNSPECIFIED') return 'ROWS';
  if (v === 'COLUMNS') return 'COLUMNS';
  throw invalid(`Invalid value at 'major_dimension' (type.googleapis.com/google.apps.sheets.v4.Dimension), "${v}"`);
}

/** The cells a ValueRange writes, row by row. */
export function inputs(body: ValueRange, option: ValueInputOption): Input[][] {
  const rows = (body.values ?? []).map((row, i) => row.map((v, j) => inputCell(v, option, `data.values[${i}].values[${j}]`)));
  return body.majorDimension === 'COLUMNS' ? transpose<Input>(rows, undefined) : rows;
}
