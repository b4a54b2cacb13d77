// The browser side of the console's end-to-end test: launches Debian's Chromium (DevTools protocol)
// or Debian's stock Firefox ESR (WebDriver BiDi) with puppeteer-core, which needs no browser of its
// own (nothing is downloaded), and wraps puppeteer's page in the few Playwright-style locators the
// steps use (getByTestId, getByRole, getByText, locator, filter, nth), so that one step script runs
// unchanged in both browsers.
//
// Locators are chains of steps resolved in the page on every use (nothing is cached, so re-rendered
// nodes are found again). Like Playwright's: actions and waitFor wait (up to the default timeout)
// for exactly one visible match and fail on several ("strict"); getByRole matches the implicit
// roles of the console's elements and a name given as a string case-insensitively as a substring
// ({exact: true}: whole and case-sensitive) or as a RegExp; a row's name is its cells' texts joined
// by spaces; getByText finds the innermost elements containing the text. fill() sets the value and
// dispatches input and change events (as Playwright does for date inputs), so date-time inputs fill
// the same in both browsers.
import puppeteer from 'puppeteer-core';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs in the page (sent as source text, so it uses no outer names): resolves a locator's steps to
 * elements and performs `op` on them.
 */
function inPage(steps, op, arg) {
  const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
  const visible = (el) => {
    if (!el.getClientRects || el.getClientRects().length === 0) return false;
    const cs = getComputedStyle(el);
    return cs.visibility !== 'hidden' && cs.display !== 'none';
  };
  const ROLES = {
    button: 'button,input[type=button],input[type=submit],[role=button]',
    link: 'a[href],[role=link]',
    row: 'tr,[role=row]',
    tab: '[role=tab]',
    dialog: 'dialog,[role=dialog]',
    alert: '[role=alert]',
    status: '[role=status],output',
  };
  const nameOf = (el, role) => {
    const label = el.getAttribute('aria-label');
    if (label) return norm(label);
    if (role === 'row') return norm(Array.from(el.children).map((c) => c.textContent).join(' '));
    if (el.tagName === 'INPUT') return norm(el.value);
    return norm(el.textContent) || norm(el.getAttribute('title'));
  };
  const matches = (text, m) => (m.re !== undefined ? new RegExp(m.re, m.flags).test(text)
    : m.exact ? text === m.s : text.toLowerCase().includes(m.s.toLowerCase()));
  let els = [document];
  for (const st of steps) {
    let next = [];
    if (st.k === 'hasText') {
      next = els.filter((e) => matches(norm(e.textContent), st.m));
    } else if (st.k === 'nth') {
      next = els[st.i] ? [els[st.i]] : [];
    } else {
      const sel = st.k === 'css' ? st.v : st.k === 'testid' ? `[data-testid="${CSS.escape(st.v)}"]` : st.k === 'role' ? ROLES[st.role] : 'body *';
      for (const root of els) {
        for (const e of root.querySelectorAll(sel)) if (!next.includes(e)) next.push(e);
      }
      if (st.k === 'role') next = next.filter((e) => visible(e) && (!st.m || matches(nameOf(e, st.role), st.m)));
      if (st.k === 'text') {
        next = next.filter((e) => !['SCRIPT', 'STYLE'].includes(e.tagName) && matches(norm(e.textContent), st.m)
          && !Array.from(e.children).some((c) => matches(norm(c.textContent), st.m)));
      }
    }
    els = next;
  }
  if (op === 'count') return els.length;
  const shown = els.filter(visible);
  if (op === 'visible') return shown.length;
  // one element for an action: 'ready' = how many are visible (and, for click/fill, enabled)
  if (op === 'ready') return shown.filter((e) => !arg || !e.disabled).length;
  if (els.length !== 1) throw new Error(`strict mode: ${els.length} elements match`);
  const el = els[0];
  if (op === 'text') return el.textContent;
  if (op === 'attr') return el.getAttribute(arg);
  if (op === 'fill') {
    el.focus();
    el.value = arg;
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
    return el.value;
  }
  return el; // op 'handle'
}

const textMatcher = (v, exact) => (v instanceof RegExp ? { re: v.source, flags: v.flags } : { s: v, exact: !!exact });

class Locator {
  constructor(page, steps) {
    this.page = page;
    this.steps = steps;
  }

  #with(step) {
    return new Locator(this.page, [...this.steps, step]);
  }

  getByTestId(id) { return this.#with({ k: 'testid', v: id }); }

  getByRole(role, opts = {}) { return this.#with({ k: 'role', role, m: opts.name === undefined ? null : textMatcher(opts.name, opts.exact) }); }

  getByText(text, opts = {}) { return this.#with({ k: 'text', m: textMatcher(text, opts.exact) }); }

  locator(css) { return this.#with({ k: 'css', v: css }); }

  filter({ hasText }) { return this.#with({ k: 'hasText', m: textMatcher(hasText) }); }

  nth(i) { return this.#with({ k: 'nth', i }); }

  #describe() { return JSON.stringify(this.steps); }

  async count() { return this.page.puppeteer.evaluate(inPage, this.steps, 'count'); }

  /** Waits until exactly one element matches and is visible (and enabled when `enabled`). */
  async #ready(timeout, enabled) {
    const deadline = Date.now() + (timeout ?? this.page.timeout);
    for (;;) {
      const n = await this.page.puppeteer.evaluate(inPage, this.steps, 'ready', enabled);
      if (n === 1) return;
      if (n > 1) throw new Error(`strict mode violation: ${n} visible elements match ${this.#describe()}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${timeout ?? this.page.timeout} ms waiting for ${this.#describe()}`);
      await sleep(100);
    }
  }

  async waitFor(opts = {}) { await this.#ready(opts.timeout, false); }

  async textContent() {
    await this.#ready(undefined, false);
    return this.page.puppeteer.evaluate(inPage, this.steps, 'text');
  }

  async getAttribute(name) {
    await this.#ready(undefined, false);
    return this.page.puppeteer.evaluate(inPage, this.steps, 'attr', name);
  }

  async fill(value) {
    await this.#ready(undefined, true);
    await this.page.puppeteer.evaluate(inPage, this.steps, 'fill', value);
  }

  async click() {
    for (let attempt = 0; ; attempt++) {
      await this.#ready(undefined, true);
      const handle = await this.page.puppeteer.evaluateHandle(inPage, this.steps, 'handle');
      try {
        await handle.click();
        return;
      } catch (e) { // re-rendered between finding and clicking: find it again
        if (attempt >= 3) throw e;
      } finally {
        await handle.dispose().catch(() => {});
      }
    }
  }
}

class Page {
  constructor(context, puppeteerPage) {
    this.context = context;
    this.puppeteer = puppeteerPage;
    this.timeout = context.timeout;
  }

  getByTestId(id) { return new Locator(this, []).getByTestId(id); }

  getByRole(role, opts) { return new Locator(this, []).getByRole(role, opts); }

  getByText(text, opts) { return new Locator(this, []).getByText(text, opts); }

  locator(css) { return new Locator(this, []).locator(css); }

  async goto(url) { await this.puppeteer.goto(url, { timeout: this.timeout }); }

  on(event, fn) { this.puppeteer.on(event, fn); }

  evaluate(fn, ...args) { return this.puppeteer.evaluate(fn, ...args); }

  screenshot(opts) { return this.puppeteer.screenshot(opts); }

  close() { return this.puppeteer.close(); }

  /**
   * Waits for the next download to finish in the context's download folder (event 'download' only);
   * resolves to {path()} of the file.
   */
  async waitForEvent(event) {
    if (event !== 'download') throw new Error(`event ${event} is not supported`);
    const dir = this.context.downloads;
    const before = new Set(readdirSync(dir));
    const deadline = Date.now() + this.timeout;
    let last = null;
    for (;;) {
      const done = readdirSync(dir).filter((f) => !before.has(f) && !/\.(part|crdownload|tmp)$/.test(f));
      const pending = readdirSync(dir).some((f) => /\.(part|crdownload)$/.test(f));
      if (done.length === 1 && !pending) {
        const p = join(dir, done[0]);
        const size = statSync(p).size;
        if (last === size && size > 0) return { path: async () => p, suggestedFilename: () => done[0] };
        last = size;
      }
      if (Date.now() > deadline) throw new Error(`no download finished in ${dir} within ${this.timeout} ms`);
      await sleep(300);
    }
  }
}

class Context {
  constructor(browser, downloads) {
    this.browser = browser;
    this.downloads = downloads;
    this.timeout = 30_000;
    this.open = [];
  }

  setDefaultTimeout(ms) {
    this.timeout = ms;
    for (const p of this.open) {
      p.timeout = ms;
      p.puppeteer.setDefaultTimeout(ms);
    }
  }

  async #wrap(pp) {
    await pp.setViewport({ width: 1400, height: 900 });
    pp.setDefaultTimeout(this.timeout);
    const p = new Page(this, pp);
    this.open.push(p);
    return p;
  }

  async firstPage() {
    const pages = await this.browser.pages();
    return this.#wrap(pages[0] ?? (await this.browser.newPage()));
  }

  async newPage() { return this.#wrap(await this.browser.newPage()); }

  /** The browser's cookies: {name, value, httpOnly, secure, sameSite: 'Strict' | 'Lax' | 'None'}. */
  async cookies() { return this.browser.cookies(); }

  async close() { await this.browser.close(); }
}

/**
 * Launches `name` ('chromium' or 'firefox') headless from `executablePath` with the fresh profile
 * folder `profile`, in UTC, downloads saved to `downloads`.
 */
export async function launch(name, executablePath, profile, downloads) {
  const env = { ...process.env, TZ: 'UTC' };
  let browser;
  if (name === 'chromium') {
    browser = await puppeteer.launch({
      browser: 'chrome',
      executablePath,
      headless: true,
      userDataDir: profile,
      env,
      defaultViewport: { width: 1400, height: 900 },
      downloadBehavior: { policy: 'allow', downloadPath: downloads },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  } else if (name === 'firefox') {
    browser = await puppeteer.launch({
      browser: 'firefox', // WebDriver BiDi
      executablePath,
      headless: true,
      userDataDir: profile,
      env,
      defaultViewport: { width: 1400, height: 900 },
      // downloads without a dialog; nothing that calls home (updates, telemetry, safe browsing)
      extraPrefsFirefox: {
        'browser.download.dir': downloads, 'browser.download.folderList': 2, 'browser.download.useDownloadDir': true,
        'browser.download.always_ask_before_handling_new_types': false,
        'app.update.enabled': false, 'app.update.auto': false, 'browser.shell.checkDefaultBrowser': false,
        'datareporting.policy.dataSubmissionEnabled': false, 'toolkit.telemetry.enabled': false,
        'browser.safebrowsing.malware.enabled': false, 'browser.safebrowsing.phishing.enabled': false,
        'browser.safebrowsing.downloads.enabled': false, 'network.captive-portal-service.enabled': false,
        'network.connectivity-service.enabled': false, 'extensions.update.enabled': false,
        'browser.search.update': false, 'messaging-system.rsexperimentloader.enabled': false,
      },
    });
  } else {
    throw new Error(`browser '${name}': expected chromium or firefox`);
  }
  return new Context(browser, downloads);
}
