import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from './shared.js';

// page.evaluate callbacks run in the browser, but the project compiles without the DOM lib
// (it would retype setTimeout & co. for src/): the browser globals they touch, loosely.
declare const document: any;

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const REPORTS = path.join(ROOT, 'reports');

/** false when the dashboard tests can run, else why they skip. */
export function browserSkip(): false | string {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is absent: install Chromium (or set CHROMIUM_PATH) to run the dashboard tests`;
  if (!existsSync(path.join(ROOT, 'models', 'credit-default', 'v1', 'model.onnx')))
    return 'the bundled model is not built (models/credit-default/v1)';
  return false;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface Watched {
  context: BrowserContext;
  /** Requests (HTTP and WebSocket) to anything but this machine; they are aborted too. */
  external: string[];
  /** Console errors, page errors, and Alpine/dashboard warnings (Alpine reports expression errors as warnings). */
  problems: string[];
  dialogs: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Headless Chromium with a fresh, empty profile. Every request is routed: one that leaves
 * localhost is recorded and aborted, so the page must work on a closed network.
 */
export async function launch(
  opts: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {},
): Promise<Watched> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'dl-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
    viewport: opts.viewport ?? { width: 1440, height: 960 },
    colorScheme: opts.colorScheme ?? 'light',
    // Fixed so that numbers read the same (5,000) on every machine.
    locale: 'en-US',
    timezoneId: 'UTC',
    acceptDownloads: true,
  });
  const external: string[] = [];
  const problems: string[] = [];
  const dialogs: string[] = [];
  const isLocal = (u: string): boolean => {
    const url = new URL(u);
    if (url.protocol === 'data:' || url.protocol === 'blob:') return true;
    return LOCAL_HOSTS.has(url.hostname) || LOCAL_HOSTS.has(`[${url.hostname}]`);
  };
  await context.route('**/*', async (route) => {
    const u = route.request().url();
    if (isLocal(u)) return route.continue();
    external.push(u);
    return route.abort('blockedbyclient');
  });
  const watch = (page: Page): void => {
    page.on('console', (m) => {
      const text = m.text();
      if (m.type() === 'error' || (m.type() === 'warning' && /alpine|dashboard:/i.test(text)))
        problems.push(`console.${m.type()}: ${text} (${m.location().url})`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('websocket', (ws) => {
      if (!isLocal(ws.url().replace(/^ws/, 'http'))) external.push(ws.url());
    });
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      void d.dismiss();
    });
  };
  for (const p of context.pages()) watch(p);
  context.on('page', watch);
  return {
    context,
    external,
    problems,
    dialogs,
    async newPage() {
      const existing = context.pages()[0];
      return existing !== undefined && existing.url() === 'about:blank' ? existing : context.newPage();
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function screenshotPath(name: string): string {
  mkdirSync(REPORTS, { recursive: true });
  return path.join(REPORTS, name);
}

/** The category labels an ECharts chart in `selector` currently shows on its first axis of `axis`. */
export async function chartCategories(page: Page, selector: string, axis: 'xAxis' | 'yAxis'): Promise<string[]> {
  return page.evaluate(
    async ({ selector, axis }) => {
      const echarts = (await import('/vendor/echarts.js' as string)) as {
        getInstanceByDom(el: unknown): { getOption(): Record<string, { data?: unknown[] }[]> } | undefined;
      };
      const el = document.querySelector(selector);
      const chart = el === null ? undefined : echarts.getInstanceByDom(el);
      return ((chart?.getOption()[axis]?.[0]?.data ?? []) as unknown[]).map(String);
    },
    { selector, axis },
  );
}
