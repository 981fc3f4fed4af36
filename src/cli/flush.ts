import type { Command } from 'commander';
import { DEFAULT_REMOVALS_PER_SECOND, flushQueue, FlushError } from '../publish/flush.js';
import { plural } from '../plural.js';
import { syncStores } from '../publish/sync-stores.js';
import { QueueError } from '../queue/sync-queue.js';
import { sheetsClient } from '../sheets/client.js';
import { SheetTable } from '../sheets/table.js';
import { EXIT_USAGE, UserError } from './common.js';
import { ENV_FILE_HELP, GOOGLE_KEY_HELP, sheetConfig } from './sheet-config.js';


interface FlushCliOptions {
  envFile?: string;
  googleKey?: string;
  batchSize: string;
  maxAttempts: string;
  syncRate: string;
  dryRun?: boolean;
}

export function addFlush(program: Command): void {
  program
    .command('flush')
    .description('write the rows that publish queued (when Google Sheets was too slow or down) into the sheet, many rows per request')
    .option('--env-file <file>', ENV_FILE_HELP)
    .option('--google-key <file>', GOOGLE_KEY_HELP)
    .option('--batch-size <rows>', 'rows per write request (the write quota counts requests, not rows)', '500')
    .option('--max-attempts <n>', 'attempts per request before giving up (backoff up to 32 s between them)', '10')
    .option('--sync-rate <n>', 'Sync writes per second, for claims and removals (Twilio Sync allows 20 writes/s per object)', String(DEFAULT_REMOVALS_PER_SECOND))
    .option('--dry-run', 'count what would be written; change nothing')
    .addHelpText(
      'after',
      `
Each queued response is written to the row its execution claimed in Twilio
Sync (the same row publish would have used), so running flush twice, or after
publish finally wrote a row, never duplicates it. An item leaves the queue
only after its row is written. Duplicate execution_sid rows that something
else left in the sheet are reported with their row numbers.
Exit status: 0 when the queue is empty, 1 when rows remain (they stay queued)
or flush failed, 2 for bad options or configuration.

Examples:
  $ sealed-survey flush
  $ sealed-survey flush --env-file .env.production --batch-size 200
`,
    )
    .action(async (opts: FlushCliOptions) => {
      const batchSize = Number(opts.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new UserError('--batch-size must be a whole number from 1 to 10000', EXIT_USAGE);
      const maxAttempts = Number(opts.maxAttempts);
      if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) throw new UserError('--max-attempts must be a whole number from 1 to 100', EXIT_USAGE);
      const removalsPerSecond = Number(opts.syncRate);
      if (!(removalsPerSecond > 0 && removalsPerSecond <= 1000)) throw new UserError('--sync-rate must be a number of removals per second from 0 to 1000, e.g. 15', EXIT_USAGE);
      const config = sheetConfig(opts.envFile, opts.googleKey);
      const table = new SheetTable(sheetsClient({ account: config.account, rootUrl: config.sheetsApiUrl }), config.target);
      const say = (s: string) => process.stderr.write(`${s}\n`);
      try {
        const report = await flushQueue(table, syncStores(config.sync, config.target), config, { batchSize, maxAttempts, removalsPerSecond, dryRun: opts.dryRun === true, progress: say });
        for (const d of report.duplicates) {
          say(`warning: execution ${d.executionSid} is in rows ${d.rows.join(', ')} of the sheet (edited by hand, or written by an older version): keep one and delete the others`);
        }
        if (opts.dryRun) {
          say(`dry run: nothing written; ${plural(report.pending, 'row')} queued.`);
        } else {
          say(`flushed: ${plural(report.written, 'row')} written in ${plural(report.writeRequests, 'request')}; ${report.remaining} remain queued.`);
        }
        if (report.refused.length > 0) {
          for (const r of report.refused) say(`  ${r.executionSid}: ${r.reason}`);
          throw new UserError(`${plural(report.refused.length, 'queued row')} left in the queue (reasons above): fix the flow or the sheet, then run flush again`);
        }
      } catch (error) {
        if (error instanceof FlushError || error instanceof QueueError) throw new UserError(error.message);
        throw error;
      }
    });
}
