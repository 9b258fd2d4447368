// Shared plumbing of the end-to-end tests: configuration from the environment (set by run.sh),
// the browser (Debian's chromium driven by playwright-core), and small helpers that act the way
// a person does (fill, click, wait for the next page).

import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run these tests through tests/e2e/run.sh`);
  }
  return value;
}

export const BASE_URL = required('AUTHD_URL').replace(/\/+$/, '');
export const ADMIN_USER = required('ADMIN_USER');
export const ADMIN_PASSWORD = required('ADMIN_PASSWORD');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// Test runs keep their screenshots under target/ (run.sh passes the directory); only
// scripts/screenshots writes the README's pictures in docs/screenshots/.
export const SCREENSHOT_DIR =
  process.env.SCREENSHOT_DIR ||
  fileURLToPath(new URL('../../target/e2e-screenshots/', import.meta.url));

// The one user password of the seeded accounts: long and uncommon enough for the policy.
export const USER_PASSWORD = 'e2e-user-passphrase-42';

export const DESKTOP = { width: 1280, height: 800 };
export const MOBILE = { width: 375, height: 812 };

const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

// launch() gives every browser a fresh temporary user-data-dir, removed on close.
export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: LAUNCH_ARGS,
    timeout: 60_000,
  });
}

// A fresh browser context (own cookies) and a page in it, closed when the test `t` ends.
// Confirm dialogs (e.g. before revoking sessions) are accepted, as a person would; every
// dialog and uncaught page error is recorded for assertions.
export async function openPage(browser, t, { viewport = DESKTOP, userAgent } = {}) {
  const context = await browser.newContext({
    baseURL: BASE_URL,
    viewport,
    deviceScaleFactor: 1,
    locale: 'en-US',
    ...(userAgent ? { userAgent } : {}),
  });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(20_000);
  t.after(() => context.close());
  const page = await context.newPage();
  const dialogs = [];
  const errors = [];
  page.on('dialog', (dialog) => {
    dialogs.push({ type: dialog.type(), message: dialog.message() });
    dialog.accept().catch(() => {});
  });
  page.on('pageerror', (err) => errors.push(err));
  return { context, page, dialogs, errors };
}

export function pathOf(page) {
  return new URL(page.url()).pathname;
}

// Waits until the page is at PATH (query and fragment ignored).
export async function waitForPath(page, path) {
  await page.waitForURL((url) => url.pathname === path, { waitUntil: 'load' });
}

// Clicks something that submits a form and waits for the next document to load. Works when the
// server answers with the same URL again (post/redirect/get), where waitForURL could not tell.
export async function clickAndLoad(page, locator) {
  const loaded = page.waitForEvent('load');
  await locator.click();
  await loaded;
}

export function navLink(page, name) {
  return page.getByRole('navigation').getByRole('link', { name, exact: true }).first();
}

export function button(scope, name) {
  return scope.getByRole('button', { name, exact: true });
}

export const flashOk = (page) => page.locator('.flash.flash-ok');
export const flashError = (page) => page.locator('.flash-error, [role=alert]');

// A name unique to this run: letters, digits and '-' only (valid as a username and a role).
export function unique(prefix) {
  return `${prefix}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export async function loginAsAdmin(page) {
  await page.goto('/admin/login');
  await page.locator('input[name=username]').fill(ADMIN_USER);
  await page.locator('input[name=password]').fill(ADMIN_PASSWORD);
  await button(page, 'Sign in').click();
  await waitForPath(page, '/admin');
}

// --- the JSON API, for seeding and for checking what the dashboard did ----------------------

export async function api(method, path, { body, token } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(BASE_URL + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text for messages
  }
  return { status: res.status, json, text };
}

export async function registerUser(username, { email, password = USER_PASSWORD } = {}) {
  const body = { username, password };
  if (email !== undefined) body.email = email;
  const res = await api('POST', '/api/auth/register', { body });
  if (res.status !== 201) {
    throw new Error(`register ${username}: HTTP ${res.status} ${res.text}`);
  }
  return res.json;
}

export async function apiLogin(username, password = USER_PASSWORD) {
  const res = await api('POST', '/api/auth/login', { body: { username, password } });
  if (res.status !== 200 || !res.json?.access_token) {
    throw new Error(`login ${username}: HTTP ${res.status} ${res.text}`);
  }
  return res.json;
}

// Saves SCREENSHOT_DIR/NAME.png: the whole page, or (fullPage: false) what the viewport shows.
export async function screenshot(page, name, { fullPage = true } = {}) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = `${SCREENSHOT_DIR.replace(/\/+$/, '')}/${name}.png`;
  await page.screenshot({ path, fullPage, animations: 'disabled' });
  return path;
}
