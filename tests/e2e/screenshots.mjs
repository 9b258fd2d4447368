// The README's pictures of the dashboard (docs/screenshots/*.png), taken on the demo data.
// Not a test of behaviour and not matched by run.sh's default *.test.mjs: run it with
// scripts/screenshots, which seeds a fresh database with `authd demo-seed` and signs in as the
// demo administrator (ADMIN_USER / ADMIN_PASSWORD).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  DESKTOP,
  MOBILE,
  launchBrowser,
  loginAsAdmin,
  openPage,
  pathOf,
  screenshot,
} from './helpers.mjs';

// The user whose page is shown: support staff with a few sessions and some history.
const SHOWN_USER = 'praman';

let browser;
let userAgent;
before(async () => {
  browser = await launchBrowser();
  // The real browser, minus "Headless": the sessions page shows the signed-in admin's browser.
  const probe = await browser.newPage();
  userAgent = (await probe.evaluate(() => navigator.userAgent)).replace('HeadlessChrome', 'Chrome');
  await probe.close();
});
after(async () => {
  await browser?.close();
});

test('screenshots of the dashboard on the demo data', { timeout: 120_000 }, async (t) => {
  const { page, errors } = await openPage(browser, t, { viewport: DESKTOP, userAgent });
  // Long pages are cut at the viewport: the top of a table says what the rest looks like.
  const shoot = (name, path, { fullPage = false } = {}) =>
    t.test(name, async () => {
      const res = await page.goto(path);
      assert.equal(res.status(), 200, `GET ${path}`);
      assert.equal(pathOf(page), path.split('?')[0], `${path} should not redirect`);
      await screenshot(page, name, { fullPage });
    });

  await shoot('login', '/admin/login');
  await t.test('sign in', () => loginAsAdmin(page));
  await shoot('overview', '/admin', { fullPage: true });
  await shoot('users', '/admin/users');
  await t.test('user-detail', async () => {
    await page.goto(`/admin/users?q=${SHOWN_USER}`);
    await page.locator('table').getByRole('link', { name: SHOWN_USER, exact: true }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/admin/users/'), { waitUntil: 'load' });
    await screenshot(page, 'user-detail', { fullPage: true });
  });
  await shoot('sessions', '/admin/sessions');
  await shoot('audit', '/admin/audit');
  await shoot('roles', '/admin/roles', { fullPage: true });

  await t.test('users-mobile', async (st) => {
    const mobile = await openPage(browser, st, { viewport: MOBILE, userAgent });
    await loginAsAdmin(mobile.page);
    const res = await mobile.page.goto('/admin/users');
    assert.equal(res.status(), 200);
    await screenshot(mobile.page, 'users-mobile', { fullPage: false });
  });
  assert.deepEqual(errors.map(String), [], 'no uncaught script errors');
});
