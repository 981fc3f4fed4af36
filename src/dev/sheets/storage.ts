// The spreadsheets the server holds, and their files under --data DIR: one
// JSON file per spreadsheet, written to a temporary file and renamed, saves
// serialised and coalesced.

import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CellSchema, type Cell } from './cells.js';
import { invalid, notFound } from './errors.js';

/** Google's grid for a new sheet. */
export const DEFAULT_ROWS = 1000;
export const DEFAULT_COLUMNS = 26;
/** Google's limit for a whole spreadsheet (every tab's rowCount × columnCount). */
export const MAX_CELLS = 10_000_000;

export interface Tab {
  sheetId: number;
  title: string;
  /** gridProperties: the grid a write must fit in. */
  rowCount: number;
  columnCount: number;
  rows: (Cell | null)[][];
}

export interface Book {
  spreadsheetId: string;
  title: string;
  tabs: Tab[];
}

// Files written before the grid was kept have no rowCount/columnCount.
const TabFileSchema = z.object({
  sheetId: z.number().int().nonnegative(),
  title: z.string().min(1),
  rowCount: z.number().int().positive().optional(),
  columnCount: z.number().int().positive().optional(),
  rows: z.array(z.array(CellSchema.nullable())),
});

const BookFileSchema = z.object({
  spreadsheetId: z.string().regex(/^[A-Za-z0-9_-]+$/),
  title: z.string(),
  tabs: z.array(TabFileSchema).min(1),
});

function fromFile(file: z.infer<typeof BookFileSchema>): Book {
  return {
    ...file,
    tabs: file.tabs.map((tab) => {
      const usedColumns = Math.max(0, ...tab.rows.map((r) => r.length));
      return { ...tab, rowCount: Math.max(tab.rowCount ?? DEFAULT_ROWS, tab.rows.length), columnCount: Math.max(tab.columnCount ?? DEFAULT_COLUMNS, usedColumns) };
    }),
  };
}

export const cellCount = (book: Book) => book.tabs.reduce((n, t) => n + t.rowCount * t.columnCount, 0);
export const cellLimit = () => invalid(`This action would increase the number of cells in the workbook above the limit of ${MAX_CELLS} cells.`);

/** A data folder that cannot be used; the message names the folder or file and the fix. */
export class SheetsDataError extends Error {
  override readonly name = 'SheetsDataError';
}

function loadBooks(dataDir: string): Book[] {
  let names: string[];
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    names = readdirSync(dataDir);
  } catch (error) {
    throw new SheetsDataError(`data folder ${dataDir} cannot be used (${(error as NodeJS.ErrnoException).code}): choose a writable folder`);
  }
  const books: Book[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const file = join(dataDir, name);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new SheetsDataError(`${file} cannot be read as JSON: remove it, or use another data folder`);
    }
    const parsed = BookFileSchema.safeParse(json);
    if (!parsed.success || `${parsed.data.spreadsheetId}.json` !== name) {
      throw new SheetsDataError(`${file} is not a spreadsheet saved by sheets-server: remove it, or use another data folder`);
    }
    books.push(fromFile(parsed.data));
  }
  return books;
}

class Saver {
  private dirty = false;
  private waiters: Array<{ ok: () => void; fail: (e: unknown) => void }> = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => string,
  ) {}

  /** Resolves once a save that includes every change made so far is on disk. */
  save(): Promise<void> {
    this.dirty = true;
    const done = new Promise<void>((ok, fail) => this.waiters.push({ ok, fail }));
    this.running ??= this.loop();
    return done;
  }

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async loop(): Promise<void> {
    await null; // let changes made in the same tick join this save
    while (this.dirty) {
      this.dirty = false;
      const batch = this.waiters;
      this.waiters = [];
      const text = this.snapshot();
      try {
        await writeFile(`${this.file}.tmp`, text, { mode: 0o600 });
        await rename(`${this.file}.tmp`, this.file);
        for (const w of batch) w.ok();
      } catch (error) {
        for (const w of batch) w.fail(error);
      }
    }
    this.running = undefined;
  }
}

/** The spreadsheets, in memory and (with a data folder) on disk; loading a folder throws SheetsDataError. */
export class Store {
  private readonly books = new Map<string, Book>();
  private readonly savers = new Map<string, Saver>();

  constructor(private readonly dataDir?: string) {
    if (dataDir !== undefined) for (const book of loadBooks(dataDir)) this.books.set(book.spreadsheetId, book);
  }

  /** The spreadsheet, or Google's 404. */
  get(id: string): Book {
    const book = this.books.get(id);
    if (!book) throw notFound();
    return book;
  }

  find(id: string): Book | undefined {
    return this.books.get(id);
  }

  add(book: Book): Promise<void> {
    this.books.set(book.spreadsheetId, book);
    return this.persist(book);
  }

  /** Resolves once the spreadsheet as it is now is on disk (at once without a data folder). */
  persist(book: Book): Promise<void> {
    if (this.dataDir === undefined) return Promise.resolve();
    let saver = this.savers.get(book.spreadsheetId);
    if (!saver) {
      saver = new Saver(join(this.dataDir, `${book.spreadsheetId}.json`), () => JSON.stringify(book));
      this.savers.set(book.spreadsheetId, saver);
    }
    return saver.save();
  }

  /** Resolves once no save is running. */
  async idle(): Promise<void> {
    await Promise.all([...this.savers.values()].map((s) => s.idle()));
  }
}
