import type { MigrationReport } from './report.js';

/** The report as a few lines for a person. */
export function formatReport(r: MigrationReport): string {
  const lines: string[] = [];
  const s = r.stats;
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  const kinds = Object.entries(s.byKind)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  lines.push(`${r.dryRun ? 'would copy' : 'source holds'} ${s.entries} entries (${mb(s.bytes)}; ${kinds || 'nothing'}); ${s.withTtl} with a TTL, ${s.leasedJobs} claimed job(s) returned to pending, largest value ${mb(s.largestValueBytes)}`);
  for (const w of r.warnings) lines.push(`warning (--force): ${w}`);
  if (r.dryRun) return lines.join('\n');
  lines.push(
    `${r.resumed ? 'resumed; ' : ''}copied ${r.copied} entries (${mb(r.bytes)}), skipped ${r.skippedExpired} expired, copy ${(r.copyMs / 1000).toFixed(1)} s at ${r.entriesPerSecond} entries/s, total ${(r.durationMs / 1000).toFixed(1)} s`,
  );
  if (r.verify) {
    const v = r.verify;
    lines.push(
      v.ok
        ? `verified: ${v.matched} keys identical on both sides${v.expiredMeanwhile ? ` (${v.expiredMeanwhile} expired meanwhile)` : ''}`
        : `VERIFY FAILED: ${v.differenceCount} difference(s) of ${v.checked} keys (keys written during the copy? rerun with --overwrite once writers are stopped)`,
    );
    for (const d of v.differences.slice(0, 20)) lines.push(`  ${d.kind.padEnd(7)} ${d.key}`);
    if (v.differenceCount > 20) lines.push(`  … ${v.differenceCount - 20} more (see --json)`);
  } else {
    lines.push('not verified (--no-verify)');
  }
  if (r.switched) {
    lines.push(`project.yml: ${r.switched.file}: communication.backend ${r.switched.backend.from ?? '(unset)'} → ${r.switched.backend.to}`);
  }
  return lines.join('\n');
}
