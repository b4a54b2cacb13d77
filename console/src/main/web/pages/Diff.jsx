// Diff view: schema (unified diff per database) and data (rows added / removed / changed per table)
// between two points: REF, REF@LSN or REF@TIMESTAMP.
import { useState } from 'preact/hooks';
import { api, tenantPath } from '../api.js';
import { ErrorLine, useAction } from './common.jsx';

function UnifiedDiff({ text }) {
  return (
    <pre class="diff">
      {text.split('\n').map((line) => {
        let cls = '';
        if (line.startsWith('+++') || line.startsWith('---')) cls = 'file';
        else if (line.startsWith('@@')) cls = 'hunk';
        else if (line.startsWith('+')) cls = 'add';
        else if (line.startsWith('-')) cls = 'del';
        return <span class={cls}>{line || ' '}</span>;
      })}
    </pre>
  );
}

export function Diff({ tenant, branches, query }) {
  const root = branches.find((b) => !b.parent)?.ref || 'main';
  const [from, setFrom] = useState(query.get('from') || root);
  const [to, setTo] = useState(query.get('to') || root);
  const [mode, setMode] = useState('both');
  const [result, setResult] = useState(null);
  const [run, busy, error] = useAction();
  const submit = async (e) => {
    e.preventDefault();
    setResult(null);
    const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&mode=${mode}`;
    const r = await run(() => api('GET', `${tenantPath(tenant)}/diff?${q}`));
    if (r) setResult(r);
  };
  return (
    <div>
      <form onSubmit={submit} class="row-form" data-testid="diff-form">
        <label>From <input name="from" value={from} onInput={(e) => setFrom(e.target.value)} list="refs" placeholder="REF, REF@LSN or REF@TIMESTAMP" required /></label>
        <label>To <input name="to" value={to} onInput={(e) => setTo(e.target.value)} list="refs" placeholder="REF, REF@LSN or REF@TIMESTAMP" required /></label>
        <datalist id="refs">{branches.map((b) => <option value={b.ref} />)}</datalist>
        <label>Compare
          <select name="mode" value={mode} onChange={(e) => setMode(e.target.value)}>
            <option value="both">schema and data</option>
            <option value="schema">schema</option>
            <option value="data">data</option>
          </select>
        </label>
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Comparing… (computes start for past points)' : 'Compare'}</button>
      </form>
      <p class="muted">A side is a branch (its present state), <code>REF@LSN</code> (e.g. <code>main@0/16B3748</code>) or
        <code>REF@TIMESTAMP</code> (e.g. <code>main@2026-05-01T12:00:00Z</code>).</p>
      <ErrorLine error={error} />
      {result && (
        <div data-testid="diff-result">
          <p>From <strong>{result.from.side}</strong> ({result.from.lsn}) to <strong>{result.to.side}</strong> ({result.to.lsn})</p>
          {result.schema && (
            <section>
              <h2>Schema</h2>
              {result.schema.filter((d) => d.changed).length === 0 && <p class="muted">No schema differences.</p>}
              {result.schema.filter((d) => d.changed).map((d) => (
                <div key={d.database}><h3>Database {d.database}</h3><UnifiedDiff text={d.diff} /></div>
              ))}
            </section>
          )}
          {result.data && (
            <section>
              <h2>Data</h2>
              <table data-testid="diff-data">
                <thead><tr><th>Database</th><th>Table</th><th>Added</th><th>Removed</th><th>Changed</th><th>Sample keys</th></tr></thead>
                <tbody>
                  {result.data.map((t) => (
                    <tr key={`${t.database}.${t.table}`}>
                      <td>{t.database}</td><td>{t.table}</td>
                      <td>{t.added ?? '—'}</td><td>{t.removed ?? '—'}</td><td>{t.changed ?? '—'}</td>
                      <td>
                        {t.sample.map((s) => <code class={`chg-${s.change}`}>{s.change === 'added' ? '+' : s.change === 'removed' ? '−' : '~'}{s.key}</code>)}
                        {t.note && <span class="muted"> {t.note}</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
        </div>
      )}
    </div>
  );
}
