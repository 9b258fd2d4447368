// End-to-end tests of the admin dashboard in headless Chromium. Run them with tests/e2e/run.sh,
// which builds and starts authd on a fresh database and sets AUTHD_URL, ADMIN_USER and
// ADMIN_PASSWORD. Every assertion is about what a person sees; every test has its own context.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  ADMIN_PASSWORD,
  ADMIN_USER,
  MOBILE,
  api,
  apiLogin,
  button,
  clickAndLoad,
  flashError,
  flashOk,
  launchBrowser,
  loginAsAdmin,
  navLink,
  openPage,
  pathOf,
  registerUser,
  screenshot,
  unique,
  waitForPath,
} from './helpers.mjs';

const TEST = { timeout: 120_000 };

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

// Users page -> search -> the user's own page. Returns the user page's URL.
async function openUserPage(page, username) {
  await navLink(page, 'Users').click();
  await waitForPath(page, '/admin/users');
  await page.locator('input[name=q]').fill(username);
  await clickAndLoad(page, button(page, 'Search'));
  const link = page.locator('table').getByRole('link', { name: username, exact: true });
  await link.click();
  await page.waitForURL((url) => url.pathname.startsWith('/admin/users/'), { waitUntil: 'load' });
  await assertH1Contains(page, username);
  return page.url();
}

async function createRole(page, name, description) {
  await navLink(page, 'Roles').click();
  await waitForPath(page, '/admin/roles');
  const form = page.locator('form', { has: page.locator('input[name=description]') });
  await form.locator('input[name=name]').fill(name);
  await form.locator('[name=description]').fill(description);
  await clickAndLoad(page, button(form, 'Create role'));
  await flashOk(page).first().waitFor();
  await page.getByText(name, { exact: true }).first().waitFor();
}

async function assertH1Contains(page, text) {
  const h1 = page.locator('h1').first();
  await h1.waitFor();
  assert.ok((await h1.innerText()).includes(text), `h1 should contain ${JSON.stringify(text)}`);
}

test('the landing page links to the admin dashboard', TEST, async (t) => {
  const { page } = await openPage(browser, t);
  const res = await page.goto('/');
  assert.equal(res.status(), 200);
  const link = page.getByRole('link', { name: 'Admin dashboard', exact: true });
  await link.waitFor();
  assert.equal(await link.getAttribute('href'), '/admin');
});

test('the login page has a username, a password, a CSRF token and "Sign in"', TEST, async (t) => {
  const { page } = await openPage(browser, t);
  const res = await page.goto('/admin/login');
  assert.equal(res.status(), 200, 'GET /admin/login');
  const form = page.locator('form', { has: page.locator('input[name=password]') });
  await form.locator('input[name=username]').waitFor();
  assert.equal(await form.locator('input[name=password]').getAttribute('type'), 'password');
  const csrf = form.locator('input[type=hidden][name=csrf_token]');
  assert.equal(await csrf.count(), 1, 'one hidden csrf_token in the login form');
  assert.ok(((await csrf.getAttribute('value')) ?? '').length > 0, 'csrf_token has a value');
  await button(form, 'Sign in').waitFor();
});

test('a wrong password shows one generic error and stays on the login page', TEST, async (t) => {
  const { page } = await openPage(browser, t);
  const attempt = async (username, password) => {
    await page.goto('/admin/login');
    await page.locator('input[name=username]').fill(username);
    await page.locator('input[name=password]').fill(password);
    await clickAndLoad(page, button(page, 'Sign in'));
    assert.equal(pathOf(page), '/admin/login');
    const error = flashError(page);
    await error.first().waitFor();
    assert.equal(await error.count(), 1, 'exactly one error message');
    const text = (await error.innerText()).trim();
    assert.ok(text.length > 0, 'the error says something');
    assert.ok(!text.includes(password), 'the error does not echo the password');
    return text;
  };
  const wrongPassword = await attempt(ADMIN_USER, `${ADMIN_PASSWORD}-wrong`);
  const noSuchUser = await attempt(unique('nobody'), 'not-the-password-1234');
  assert.equal(wrongPassword, noSuchUser, 'same message for a wrong password and an unknown user');
  // Still signed out.
  await page.goto('/admin');
  await waitForPath(page, '/admin/login');
});

test('an anonymous visit to /admin/users lands on the login page', TEST, async (t) => {
  const { page } = await openPage(browser, t);
  await page.goto('/admin/users');
  await waitForPath(page, '/admin/login');
  await button(page, 'Sign in').waitFor();
});

test('an admin grants a role, revokes all sessions and signs out', TEST, async (t) => {
  // Seed through the JSON API: a user with a live access token.
  const username = unique('e2e-user');
  await registerUser(username);
  const { access_token: token } = await apiLogin(username);
  assert.equal((await api('GET', '/api/auth/me', { token })).status, 200, 'token works at first');

  const { page, errors } = await openPage(browser, t);
  await loginAsAdmin(page);
  await assertH1Contains(page, 'Overview');

  const role = unique('e2e-role');
  await createRole(page, role, 'Created by the end-to-end test');

  const userUrl = await openUserPage(page, username);

  // Grant the role.
  const box = page.locator(`input[name=roles][value="${role}"]`);
  assert.equal(await box.isChecked(), false, 'the new role is not granted yet');
  await box.check();
  await clickAndLoad(page, button(page, 'Save roles'));
  await flashOk(page).first().waitFor();
  assert.equal(await page.locator(`input[name=roles][value="${role}"]`).isChecked(), true);
  await page.goto(userUrl);
  assert.equal(
    await page.locator(`input[name=roles][value="${role}"]`).isChecked(),
    true,
    'still ticked after reload',
  );

  // Revoke every session of the user: its API access tokens stop working. Saving roles may
  // already void the tokens held then, so a token issued after the save is checked as well.
  const { access_token: fresh } = await apiLogin(username);
  assert.equal((await api('GET', '/api/auth/me', { token: fresh })).status, 200, 'fresh token');
  await clickAndLoad(page, button(page, 'Revoke all sessions'));
  await flashOk(page).first().waitFor();
  for (const [name, bearer] of [['the first token', token], ['the fresh token', fresh]]) {
    const me = await api('GET', '/api/auth/me', { token: bearer });
    assert.equal(me.status, 401, `GET /api/auth/me with ${name} after revoking: ${me.text}`);
  }

  // Sign out: back to the login page, and the dashboard is closed again.
  await button(page, 'Sign out').click();
  await waitForPath(page, '/admin/login');
  await page.goto('/admin');
  await waitForPath(page, '/admin/login');

  assert.deepEqual(errors.map(String), [], 'no uncaught script errors');
});

test('text that users supply is shown literally, never as markup', TEST, async (t) => {
  const username = unique('e2e-xss');
  await registerUser(username, { email: `${username}@example.com` });

  const { page, dialogs } = await openPage(browser, t);
  await loginAsAdmin(page);
  const payload = '<img src=x onerror=alert(1)>';
  const role = unique('e2e-xss');
  await createRole(page, role, payload);

  await page.goto('/admin/roles');
  assert.ok((await page.textContent('body')).includes(payload), 'the description is shown as text');
  assert.equal(await page.locator('img[src=x]').count(), 0, 'no <img src=x> element');

  // The user's page too shows the email as text.
  await openUserPage(page, username);
  assert.ok((await page.textContent('body')).includes(`${username}@example.com`));
  assert.deepEqual(dialogs, [], 'no script ran (no alert)');
});

test('every form that changes something carries a CSRF token', TEST, async (t) => {
  const username = unique('e2e-csrf');
  await registerUser(username);
  await apiLogin(username);

  const { page } = await openPage(browser, t);
  await loginAsAdmin(page);
  const pages = {};
  for (const path of ['/admin', '/admin/users', '/admin/sessions', '/admin/audit', '/admin/roles']) {
    await page.goto(path);
    assert.equal(pathOf(page), path, `${path} should not redirect`);
    pages[path] = await postFormsWithoutToken(page);
  }
  await openUserPage(page, username);
  pages[pathOf(page)] = await postFormsWithoutToken(page);
  const missing = Object.entries(pages).filter(([, forms]) => forms.length > 0);
  assert.deepEqual(missing, [], 'POST forms without a non-empty hidden csrf_token');
});

// The actions of this page's POST forms that lack a non-empty hidden csrf_token.
async function postFormsWithoutToken(page) {
  return page.locator('form').evaluateAll((forms) =>
    forms
      .filter((f) => (f.getAttribute('method') || 'get').toLowerCase() === 'post')
      .filter((f) => !f.querySelector('input[type=hidden][name=csrf_token]')?.value)
      .map((f) => f.getAttribute('action') || '(no action)'),
  );
}

test('screenshots of every dashboard page', TEST, async (t) => {
  // Data worth showing: a user with a session, a role.
  const username = unique('e2e-shot');
  await registerUser(username, { email: `${username}@example.com` });
  await apiLogin(username);

  const { page } = await openPage(browser, t);
  // Each page is its own subtest, so one missing page does not hide the others.
  const shoot = (name, path, prepare) =>
    t.test(name, async () => {
      if (path) {
        const res = await page.goto(path);
        assert.equal(pathOf(page), path, `${path} should not redirect`);
        assert.equal(res.status(), 200, `GET ${path}`);
      }
      if (prepare) await prepare();
      await screenshot(page, name);
    });

  await shoot('login', '/admin/login');
  await t.test('sign in', () => loginAsAdmin(page));
  await shoot('overview', '/admin');
  await shoot('users', '/admin/users');
  await shoot('user-detail', null, async () => {
    await page.goto('/admin');
    await openUserPage(page, username);
  });
  await shoot('sessions', '/admin/sessions');
  await shoot('audit', '/admin/audit');
  await shoot('roles', '/admin/roles');

  await t.test('users-mobile', async (st) => {
    const mobile = await openPage(browser, st, { viewport: MOBILE });
    await loginAsAdmin(mobile.page);
    const res = await mobile.page.goto('/admin/users');
    assert.equal(res.status(), 200);
    assert.equal(pathOf(mobile.page), '/admin/users');
    await screenshot(mobile.page, 'users-mobile');
  });
});
