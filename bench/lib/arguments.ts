import { parseArgs } from 'node:util';

export const BENCH_USAGE = `npm run bench -- [--quick | --full] [--only <word>]…

  --quick        the default: each scenario at its smaller size (lifecycle 10 s per engine, expiry 2,000
                 grants over 20 s, 100 notifications, 5 crash kills, 20 renderer passes, 10,000 hostile
                 cases, 200 PostgreSQL logins with 20 sessions); about ten minutes
  --full         each scenario at its full size (lifecycle 30 s per engine, expiry 10,000 grants over
                 60 s, 500 notifications, 20 crash kills, 60 renderer passes, 50,000 hostile cases,
                 1,000 PostgreSQL logins with every person's session)
  --only <word>  only the scenarios whose title has the word (repeatable); written to partial.json/.md
  --help         this text`;

export type BenchArguments =
  | { readonly help: true }
  | { readonly help: false; readonly full: boolean; readonly only: readonly string[] };

/** What `npm run bench` was asked; throws an Error whose message says what is wrong and the usage. */
export function parseBenchArguments(args: readonly string[]): BenchArguments {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        quick: { type: 'boolean', default: false },
        full: { type: 'boolean', default: false },
        only: { type: 'string', multiple: true, default: [] },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n\n${BENCH_USAGE}`, {
      cause: error,
    });
  }
  if (values.help) return { help: true };
  if (values.quick && values.full) throw new Error(`Choose --quick or --full, not both.\n\n${BENCH_USAGE}`);
  return { help: false, full: values.full, only: values.only };
}
