// A real OpenID Connect provider for the sign-in tests, driven by tests/support/oidc_provider.py.
//
// Usage: node provider.mjs CONFIG.json, where the file holds
//   {port, issuer, clients: [{client_id, client_secret, redirect_uris, post_logout_redirect_uris}],
//    jwks: {keys: [private RSA JWK, ...]}, accounts_file}
// and accounts_file holds {login: {sub, name, email, groups: [...] | null}}. The accounts file is
// read at every lookup, so a test can change a user between two sign-ins. Prints "ready" once
// listening on 127.0.0.1:port.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as querystring from 'node:querystring';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function readAccounts() {
  return JSON.parse(readFileSync(config.accounts_file, 'utf8'));
}

function accountClaims(login, account) {
  const claims = {
    sub: account.sub,
    name: account.name,
    preferred_username: login,
    email: account.email,
    email_verified: true,
  };
  // null means the provider sends no groups claim at all, not an empty list.
  if (account.groups !== null && account.groups !== undefined) {
    claims.groups = account.groups;
  }
  return claims;
}

// Accounts are keyed by login; the session's accountId is that login.
async function findAccount(ctx, login) {
  const account = readAccounts()[login];
  if (!account) return undefined;
  return {
    accountId: login,
    async claims() {
      return accountClaims(login, account);
    },
  };
}

const provider = new Provider(config.issuer, {
  clients: config.clients.map((client) => ({
    client_id: client.client_id,
    client_secret: client.client_secret,
    redirect_uris: client.redirect_uris,
    post_logout_redirect_uris: client.post_logout_redirect_uris ?? [],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  })),
  // The first key is the signing key: oidc-provider signs with the first key of the algorithm.
  jwks: config.jwks,
  findAccount,
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  // By default claims asked for by scope go to the userinfo endpoint only, once an access token
  // is issued; the relying party reads them from the ID token.
  conformIdTokenClaims: false,
  pkce: { methods: ['S256'], required: () => true },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    userinfo: { enabled: true },
  },
  cookies: {
    // Distinct from the relying party's cookie names: cookies are not kept apart by port.
    names: {
      session: 'op_session',
      interaction: 'op_interaction',
      resume: 'op_interaction_resume',
    },
    keys: [randomBytes(32).toString('hex')],
    // The default SameSite=None needs Secure, which a browser would refuse over plain http.
    long: { httpOnly: true, sameSite: 'lax', signed: true },
    short: { httpOnly: true, sameSite: 'lax', signed: true },
  },
  ttl: {
    AccessToken: 300,
    AuthorizationCode: 60,
    IdToken: 300,
    Interaction: 300,
    Session: 600,
    Grant: 600,
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><title>Error</title><h1>${out.error}</h1><p>${out.error_description ?? ''}</p>`;
  },
});

// The built-in login form accepts any login and password; refuse logins the accounts file
// does not hold, so a test signing in with an unknown user sees a refusal, not a loop.
provider.use(async (ctx, next) => {
  if (ctx.method !== 'POST' || !/^\/interaction\/[^/]+$/.test(ctx.path)) {
    return next();
  }
  const raw = await new Promise((resolve, reject) => {
    const chunks = [];
    ctx.req.on('data', (chunk) => chunks.push(chunk));
    ctx.req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    ctx.req.on('error', reject);
  });
  const form = querystring.parse(raw);
  if (form.prompt === 'login' && !(String(form.login) in readAccounts())) {
    ctx.status = 403;
    ctx.type = 'html';
    ctx.body = '<!DOCTYPE html><title>Sign-in refused</title><h1>Unknown login</h1>';
    return undefined;
  }
  // The interaction route parses ctx.req.body when the stream has been read already.
  ctx.req.body = raw;
  return next();
});

provider.listen(config.port, '127.0.0.1', () => {
  console.log('ready');
});
