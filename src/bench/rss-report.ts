/**
 * Preloaded into a benchmarked child (`node --import <this file> ...`): at exit it writes the process's
 * peak resident set size to $BENCH_RSS_FILE, so the bench measures the cleanup process and nothing else.
 */
import { writeFileSync } from 'node:fs';

const target = process.env.BENCH_RSS_FILE;
if (target) {
  process.on('exit', (code) => {
    // maxRSS is in kilobytes
    writeFileSync(target, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, exitCode: code }));
  });
}
