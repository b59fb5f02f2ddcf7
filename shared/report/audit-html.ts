import { type AuditReport, type AuditTarget, auditPercent } from './audit.ts';

/**
 * The audit as one self-contained page: no external asset, no network, so it opens offline from a file. A table per
 * cloud, a capacity bar per target, and a button that sorts each table by use. Every value is escaped: target names
 * and Deployment names come from people.
 */

const CLOUDS: ReadonlyArray<[AuditTarget['cloud'], string]> = [
  ['aws', 'AWS IAM roles'],
  ['gcp', 'Google Cloud'],
  ['azure', 'Azure managed identities'],
];

export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

function list(items: readonly string[]): string {
  return items.length === 0
    ? '<span class="none">none</span>'
    : `<ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`;
}

function row(t: AuditTarget, warnAtPercent: number): string {
  const percent = auditPercent(t);
  const bar =
    t.usage === undefined
      ? '<span class="none">unknown</span>'
      : `<div class="bar" title="${percent}%"><div class="fill${(percent ?? 0) >= warnAtPercent ? ' high' : ''}" style="width:${Math.min(100, percent ?? 0)}%"></div></div>` +
        `<span class="use">${t.usage.used} / ${t.usage.limit} ${escapeHtml(t.usage.unit)} (${percent}%)</span>` +
        (t.headroom === undefined ? '' : `<div class="room">room for ${t.headroom} more Deployment(s)</div>`);
  const who = (d: { name: string; namespace: string; dr: boolean }) => `${d.name} (${d.namespace})${d.dr ? ' DR' : ''}`;
  return `<tr class="target" data-use="${percent ?? -1}">
<td class="name">${escapeHtml(t.target)}${t.kind === undefined ? '' : ` <span class="kind">${escapeHtml(t.kind)}</span>`}</td>
<td class="capacity">${bar}</td>
<td class="trusted" data-count="${t.trusted.length}">${list(t.trusted.map(who))}</td>
<td class="missing" data-count="${t.missing.length}">${list(t.missing.map((d) => `${who(d)}: ${d.entries.length} entries`))}</td>
<td class="stale" data-count="${t.stale.length}">${list(t.stale)}</td>
<td class="foreign" data-count="${t.foreign.length}">${list(t.foreign)}</td>
<td class="problems" data-count="${t.problems.length}">${list(t.problems.map((d) => `${who(d)} ${d.status}: ${d.reason}`))}</td>
</tr>`;
}

export function renderAuditHtml(report: AuditReport): string {
  const sections = CLOUDS.map(([cloud, title]) => {
    const targets = report.targets.filter((t) => t.cloud === cloud);
    if (targets.length === 0) return '';
    return `<section data-cloud="${cloud}"><h2>${title} <small>${targets.length}</small></h2>
<button type="button" class="sort">Sort by use</button>
<table><thead><tr><th>Target</th><th>Capacity</th><th>Trusts</th><th>Missing (next sweep adds)</th><th>Stale (this tool's, unused)</th><th>Added by a person (never touched)</th><th>Problems</th></tr></thead>
<tbody>${targets.map((t) => row(t, report.warnAtPercent)).join('\n')}</tbody></table></section>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>astro-identity-sync audit</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1b1f24}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}small{color:#666;font-weight:normal}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
ul{margin:0;padding-left:1rem}.none{color:#888}.kind{color:#666;font-size:.85em}
.bar{display:inline-block;width:8rem;height:.7rem;background:#eee;border-radius:.35rem;overflow:hidden;vertical-align:middle}
.fill{height:100%;background:#2f81f7}.fill.high{background:#d1242f}.use{margin-left:.5rem;white-space:nowrap}.room{color:#666;font-size:.85em}
button{margin:.3rem 0}
</style></head><body>
<h1>Who can assume what</h1>
<p id="summary">${report.targets.length} target(s), ${report.deployments} Deployment(s), read ${escapeHtml(report.generatedAt)} (read-only: nothing was changed)</p>
${sections}
<script>
for (const button of document.querySelectorAll('button.sort')) {
  button.addEventListener('click', () => {
    const body = button.parentElement.querySelector('tbody');
    const rows = [...body.querySelectorAll('tr')];
    rows.sort((a, b) => Number(b.dataset.use) - Number(a.dataset.use));
    for (const r of rows) body.appendChild(r);
  });
}
</script>
</body></html>
`;
}
