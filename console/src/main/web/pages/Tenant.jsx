// One tenant: tabs Branches, Branch tree, Backups. Branches are loaded here and shared by the tabs.
import { useEffect, useState } from 'preact/hooks';
import { api, tenantPath } from '../api.js';
import { ErrorLine } from './common.jsx';
import { Branches } from './Branches.jsx';
import { Tree } from './Tree.jsx';
import { Backups } from './Backups.jsx';
import { Diff } from './Diff.jsx';

const TABS = [['branches', 'Branches'], ['tree', 'Branch tree'], ['backups', 'Backups'], ['diff', 'Diff']];

export function Tenant({ name, tab, query }) {
  const [branches, setBranches] = useState(null);
  const [retention, setRetention] = useState(null);
  const [error, setError] = useState(null);
  const reload = async () => {
    try {
      const [b, r] = await Promise.all([
        api('GET', `${tenantPath(name)}/branches`),
        api('GET', `${tenantPath(name)}/retention`),
      ]);
      setBranches(b);
      setRetention(r);
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    reload();
  }, [name]);
  const base = `#/t/${encodeURIComponent(name)}`;
  return (
    <section>
      <p class="crumbs"><a href="#/">Tenants</a> / <strong>{name}</strong></p>
      <nav class="tabs" role="tablist">
        {TABS.map(([id, label]) => (
          <a role="tab" aria-selected={tab === id} class={tab === id ? 'tab active' : 'tab'} href={`${base}/${id}`}>{label}</a>
        ))}
      </nav>
      <ErrorLine error={error} />
      {branches === null && !error && <p>Loading…</p>}
      {branches !== null && tab === 'branches' && <Branches tenant={name} branches={branches} retention={retention} reload={reload} />}
      {branches !== null && tab === 'tree' && <Tree branches={branches} />}
      {branches !== null && tab === 'backups' && <Backups tenant={name} branches={branches} reload={reload} />}
      {branches !== null && tab === 'diff' && <Diff tenant={name} branches={branches} query={query} />}
    </section>
  );
}
