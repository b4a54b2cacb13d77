// End-to-end test of the web console in a real headless browser: Debian's Chromium
// (/usr/bin/chromium, over the DevTools protocol) or Debian's stock Firefox ESR (/usr/bin/firefox-esr,
// over WebDriver BiDi), both driven by puppeteer-core through the Playwright-style locators of
// e2e/driver.mjs; the same steps run in both. ConsoleE2EIT (module cli) starts a Forkline server with
// tenant $FORKLINE_E2E_TENANT, prints a sign-in URL with `forkline console` and runs this script:
//   node e2e/console-e2e.mjs
// Environment: FORKLINE_E2E_SIGNIN_URL (required), FORKLINE_E2E_TENANT (required),
//   FORKLINE_E2E_SCREENSHOTS (folder for the page screenshots, required),
//   FORKLINE_E2E_BROWSER (chromium | firefox, default chromium),
//   FORKLINE_E2E_BROWSER_PATH (default /usr/bin/chromium or /usr/bin/firefox-esr; FORKLINE_E2E_CHROMIUM
//   is still read for Chromium), FORKLINE_E2E_PSQL (default /usr/lib/postgresql/15/bin/psql).
// Prints one line per step and closes with "N passed, N failed"; exits 1 on the first failure
// (after a screenshot failure-<step>.png).
import { launch } from './driver.mjs';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = (name, dflt) => {
  const v = process.env[name] ?? dflt;
  if (v === undefined || v === '') throw new Error(`${name} is not set`);
  return v;
};
const signinUrl = env('FORKLINE_E2E_SIGNIN_URL');
const tenant = env('FORKLINE_E2E_TENANT');
const shots = env('FORKLINE_E2E_SCREENSHOTS');
const browserName = env('FORKLINE_E2E_BROWSER', 'chromium');
if (browserName !== 'chromium' && browserName !== 'firefox') throw new Error(`FORKLINE_E2E_BROWSER '${browserName}': expected chromium or firefox`);
const browserPath = env('FORKLINE_E2E_BROWSER_PATH',
  browserName === 'chromium' ? env('FORKLINE_E2E_CHROMIUM', '/usr/bin/chromium') : '/usr/bin/firefox-esr');
const psqlPath = env('FORKLINE_E2E_PSQL', '/usr/lib/postgresql/15/bin/psql');
mkdirSync(shots, { recursive: true });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Runs SQL with psql against a libpq URI; returns the unaligned, tuples-only output. */
const psql = (uri, sql) =>
  execFileSync(psqlPath, [uri, '-X', '-v', 'ON_ERROR_STOP=1', '-At', '-c', sql], { encoding: 'utf8', timeout: 60_000 }).trim();
const utcSeconds = (d) => d.toISOString().slice(0, 19); // value of a datetime-local input with step=1

const profile = mkdtempSync(join(tmpdir(), `forkline-e2e-${browserName}-`));
let passed = 0;
let failed = 0;
let context;
let page;

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok - ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e.stack || e}`);
    if (page) await page.screenshot({ path: join(shots, `failure-${name.replace(/[^a-z0-9]+/gi, '-')}.png`), fullPage: true }).catch(() => {});
    throw e;
  }
}

const shot = (file) => page.screenshot({ path: join(shots, file), fullPage: true });
const branchRow = (ref) => page.getByTestId(`branch-${ref}`);
const uriOf = async (ref) => (await branchRow(ref).getByTestId('uri').textContent()).trim();

try {
  const downloads = join(profile, 'downloads');
  mkdirSync(downloads);
  context = await launch(browserName, browserPath, join(profile, 'profile'), downloads);
  console.log(`browser: ${browserName} ${await context.browser.version()} (${browserPath})`);
  context.setDefaultTimeout(60_000);
  page = await context.firstPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));

  await step('sign in with the URL of forkline console', async () => {
    await page.goto(signinUrl);
    await page.getByTestId('scope').waitFor();
    const scope = await page.getByTestId('scope').textContent();
    if (!scope.includes('admin')) throw new Error(`signed in as '${scope}', expected admin`);
    const cookies = await context.cookies();
    const c = cookies.find((x) => x.name === 'forkline_session');
    if (!c || !c.httpOnly || !c.secure || c.sameSite !== 'Strict') throw new Error(`session cookie ${JSON.stringify(c)}`);
    // the page's scripts cannot read it
    const visible = await page.evaluate(() => document.cookie);
    if (visible.includes('forkline_session')) throw new Error('the session cookie is readable by scripts');
  });

  await step('a used sign-in link is refused with the API words', async () => {
    const other = await context.newPage();
    await other.goto(signinUrl);
    await other.getByRole('alert').waitFor();
    const text = await other.getByRole('alert').textContent();
    await other.close();
    if (!text.includes('already used')) throw new Error(`expected 'already used', got '${text}'`);
  });

  await step('tenants overview', async () => {
    await page.goto(new URL('/#/', signinUrl).href);
    const row = page.getByTestId('tenants').getByRole('row', { name: new RegExp(`^${tenant}\\b`) });
    await row.waitFor();
    const text = await row.textContent();
    if (!/MB|kB/.test(text) || !text.includes('1 / 50')) throw new Error(`tenant row '${text}'`);
    await shot('tenants.png');
  });

  let mainUri;
  let before;
  await step('start main from the Branches tab and write through its connection string', async () => {
    await page.getByRole('link', { name: tenant, exact: true }).click();
    await branchRow('main').waitFor();
    await branchRow('main').getByRole('button', { name: 'Start' }).click();
    await branchRow('main').getByTestId('uri').waitFor({ timeout: 120_000 });
    await branchRow('main').getByText('Active').waitFor();
    mainUri = await uriOf('main');
    psql(mainUri, 'CREATE TABLE e2e_orders (id int PRIMARY KEY, item text); INSERT INTO e2e_orders VALUES (1, \'tea\'), (2, \'cake\'), (3, \'jam\')');
    await sleep(1500);
    before = new Date();
    await sleep(1500);
    psql(mainUri, 'DROP TABLE e2e_orders');
    const gone = psql(mainUri, "SELECT count(*) FROM pg_class WHERE relname = 'e2e_orders'");
    if (gone !== '0') throw new Error('the table is still there after DROP TABLE');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await shot('branches.png');
  });

  await step('restore main to a time before the DROP TABLE and see the table again', async () => {
    await branchRow('main').getByRole('button', { name: 'Restore' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByTestId('restorable-window').waitFor();
    const win = await dialog.getByTestId('restorable-window').textContent();
    if (!win.includes('Restorable window')) throw new Error(`window text '${win}'`);
    await dialog.locator('input[name=at]').fill(utcSeconds(before));
    await shot('restore.png');
    await dialog.getByRole('button', { name: 'Restore' }).click();
    await page.getByRole('status').filter({ hasText: 'Restored main' }).waitFor({ timeout: 120_000 });
    await branchRow('main').getByTestId('uri').waitFor({ timeout: 120_000 });
    const uri = await uriOf('main');
    let rows;
    for (let i = 0; ; i++) { // the compute restarts on the restored timeline
      try {
        rows = psql(uri, 'SELECT string_agg(item, \',\' ORDER BY id) FROM e2e_orders');
        break;
      } catch (e) {
        if (i >= 30) throw e;
        await sleep(1000);
      }
    }
    if (rows !== 'tea,cake,jam') throw new Error(`after the restore e2e_orders holds '${rows}'`);
    // the state before the restore is kept as a branch
    await branchRow('main').waitFor();
    const kept = await page.getByTestId('branches').locator('tr[data-testid^="branch-main-before-restore-"]').count();
    if (kept !== 1) throw new Error(`expected the kept main-before-restore-* branch, found ${kept}`);
  });

  await step('create a branch from the console and see it in the tree', async () => {
    await page.getByRole('button', { name: 'Create branch' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.locator('input[name=ref]').fill('feat/e2e');
    await dialog.locator('input[name=ttl]').fill('7d');
    await dialog.locator('input[name=suspend_after]').fill('1s');
    await shot('create-branch.png');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await branchRow('feat/e2e').waitFor();
    await page.getByRole('tab', { name: 'Branch tree' }).click();
    const node = page.getByTestId('tree-feat/e2e');
    await node.waitFor();
    const text = await node.textContent();
    if (!text.includes('from main at')) throw new Error(`tree node '${text}'`);
    await shot('tree.png');
  });

  await step('a compute suspended by scale to zero reads Suspended and its connection string wakes it', async () => {
    await page.getByRole('tab', { name: 'Branches' }).click();
    const row = branchRow('feat/e2e');
    await row.waitFor();
    if (!(await row.textContent()).includes('suspends after 1s')) throw new Error(`row '${await row.textContent()}'`);
    await row.getByRole('button', { name: 'Start' }).click();
    await row.getByTestId('uri').waitFor({ timeout: 120_000 });
    const uri = await uriOf('feat/e2e');
    // one session through the proxy; when it ends, the 1 s timer suspends the compute
    if (psql(uri, 'SELECT 1') !== '1') throw new Error('SELECT 1 through the connection string');
    let st;
    for (let i = 0; ; i++) {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await sleep(1000);
      st = (await row.getByTestId('status').textContent()).trim();
      if (st === 'Suspended') break;
      if (i >= 60) throw new Error(`status '${st}' 60 s after the last session closed, expected Suspended`);
    }
    // the shown connection string (the proxy's) still works: a connection wakes the compute
    if ((await uriOf('feat/e2e')) !== uri) throw new Error(`connection string '${await uriOf('feat/e2e')}' while suspended, expected '${uri}'`);
    await row.getByRole('button', { name: 'Start' }).waitFor();
    await shot('suspended.png');
    if (psql(uri, 'SELECT 2') !== '2') throw new Error('SELECT 2 through the connection string of the suspended compute');
  });

  await step('open a schema diff between the state kept before the restore and main', async () => {
    await page.getByRole('tab', { name: 'Branches' }).click();
    const kept = await page.getByTestId('branches').locator('tr[data-testid^="branch-main-before-restore-"]')
      .getAttribute('data-testid');
    const keptRef = kept.replace(/^branch-/, '');
    await page.getByRole('tab', { name: 'Diff' }).click();
    const form = page.getByTestId('diff-form');
    await form.locator('input[name=from]').fill(keptRef);
    await form.locator('input[name=to]').fill('main');
    await form.getByRole('button', { name: 'Compare' }).click();
    const result = page.getByTestId('diff-result');
    await result.waitFor({ timeout: 180_000 });
    const added = result.locator('pre.diff span.add').filter({ hasText: 'CREATE TABLE public.e2e_orders' });
    if ((await added.count()) !== 1) throw new Error(`no '+CREATE TABLE public.e2e_orders' in ${await result.textContent()}`);
    const row = page.getByTestId('diff-data').getByRole('row').filter({ hasText: 'public.e2e_orders' });
    const text = await row.textContent();
    const addedCell = (await row.locator('td').nth(2).textContent()).trim();
    if (!text.includes('table only in TO') || addedCell !== '3') throw new Error(`data row '${text}'`);
    await shot('diff.png');
    // the temporary branch of the stopped side is gone again
    await page.getByRole('tab', { name: 'Branches' }).click();
    await branchRow('main').waitFor();
    const tmp = await page.getByTestId('branches').locator('tr[data-testid^="branch-diff-tmp-"]').count();
    if (tmp !== 0) throw new Error(`${tmp} temporary diff branches are left`);
  });

  await step('an API refusal is shown as the API words it', async () => {
    await branchRow('main').getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.locator('input[name=confirm]').fill('main');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    const alert = dialog.getByRole('alert');
    await alert.waitFor();
    const text = await alert.textContent();
    if (!/^conflict: .*main/.test(text)) throw new Error(`error line '${text}'`);
    await shot('error.png');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });

  await step('create a backup and see it complete', async () => {
    await page.getByRole('tab', { name: 'Backups' }).click();
    const form = page.getByTestId('backup-form');
    await form.locator('input[name=label]').fill('before-release');
    await form.getByRole('button', { name: 'Create backup' }).click();
    const row = page.getByTestId('backups').getByRole('row').filter({ hasText: 'before-release' });
    await row.getByText('completed').waitFor({ timeout: 120_000 });
    const exportLink = row.getByRole('link', { name: 'Export' });
    const href = await exportLink.getAttribute('href');
    if (!/\/backups\/[^/]+\/export$/.test(href)) throw new Error(`export link '${href}'`);
    // the download is authenticated by the cookie alone
    const [download] = await Promise.all([page.waitForEvent('download'), exportLink.click()]);
    const path = await download.path();
    const size = Number(execFileSync('stat', ['-c', '%s', path], { encoding: 'utf8' }).trim());
    if (size < 1 << 20) throw new Error(`the exported tar has ${size} bytes`);
    const schedules = page.getByTestId('schedule-form');
    await schedules.locator('input[name=name]').fill('nightly');
    await schedules.getByRole('button', { name: 'Create schedule' }).click();
    await page.getByTestId('schedules').getByText('nightly').waitFor();
    await shot('backups.png');
  });

  if (pageErrors.length > 0) {
    await step('no script errors on the pages', async () => {
      throw new Error(pageErrors.join('\n'));
    });
  }
} catch (e) {
  if (failed === 0) {
    failed++;
    console.log(`not ok - setup: ${e.stack || e}`);
  }
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}
