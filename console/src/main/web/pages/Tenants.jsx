// Tenants overview: logical size, storage, history size, branches, running computes.
import { useEffect, useState } from 'preact/hooks';
import { api, tenantPath } from '../api.js';
import { bytes, time } from '../format.js';
import { ErrorLine } from './common.jsx';

export function Tenants() {
  const [rows, setRows] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    (async () => {
      try {
        const tenants = await api('GET', '/v1/tenants');
        const withUsage = await Promise.all(tenants.map(async (t) => {
          try {
            const c = await api('GET', `${tenantPath(t.name)}/config`);
            return { ...t, usage: c.usage, limits: c.limits };
          } catch {
            return { ...t, usage: null };
          }
        }));
        setRows(withUsage);
      } catch (e) {
        setError(e);
      }
    })();
  }, []);
  return (
    <section>
      <h1>Tenants</h1>
      <ErrorLine error={error} />
      {rows === null && !error && <p>Loading…</p>}
      {rows && rows.length === 0 && <p>No tenants yet: <code>forkline tenant create NAME</code>.</p>}
      {rows && rows.length > 0 && (
        <table data-testid="tenants">
          <thead>
            <tr><th>Tenant</th><th>Logical size</th><th>Storage</th><th>History size</th><th>Branches</th>
              <th>Running computes</th><th>Created</th></tr>
          </thead>
          <tbody>
            {rows.map((t) => (
              <tr key={t.name}>
                <td><a href={`#/t/${encodeURIComponent(t.name)}`}>{t.name}</a></td>
                <td>{bytes(t.logical_size_bytes)}</td>
                <td>{bytes(t.total_physical_size_bytes)}</td>
                <td>{bytes(t.history_size_bytes)}</td>
                <td>{t.usage ? `${t.usage.branches} / ${t.limits.max_branches}` : '—'}</td>
                <td>{t.usage ? `${t.usage.running_endpoints} / ${t.limits.max_running_endpoints}` : '—'}</td>
                <td>{time(t.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
