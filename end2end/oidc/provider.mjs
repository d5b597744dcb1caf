// A real OpenID Connect provider for the end-to-end tests (npm `oidc-provider`): one
// confidential client for the portal, PKCE required, a login form that checks
// passwords, people in groups, `groups` and `email` in the id_token.
//
//   PORT=4100 PORTAL=http://127.0.0.1:3917 node oidc/provider.mjs
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const portal = process.env.PORTAL;
const issuer = `http://127.0.0.1:${port}`;

/** People of the test organisation: login → password, claims. */
export const people = {
  grace: { password: 'grace-pass', email: 'grace@northwind.example', name: 'Grace', groups: ['platform-admins'] },
  linus: { password: 'linus-pass', email: 'linus@northwind.example', name: 'Linus', groups: ['engineering', 'storefront'] },
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'portico',
      client_secret: 'portico-secret',
      redirect_uris: [`${portal}/auth/callback`],
      post_logout_redirect_uris: [`${portal}/login?signed_out=1`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  pkce: { required: () => true },
  // Without this, email and groups would reach the userinfo endpoint only.
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['preferred_username', 'name'],
    groups: ['groups'],
  },
  features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: ['portico-e2e-provider'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const person = people[sub];
    if (!person) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, email: person.email, email_verified: true, preferred_username: sub, name: person.name, groups: person.groups };
      },
    };
  },
  // A first-party client: no consent screen.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
});

function page(uid, error) {
  return `<!DOCTYPE html><html><head><title>Test provider sign-in</title></head><body>
<h1>Test provider</h1>
${error ? `<p role="alert">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}">
<label>Login <input name="login" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Continue</button>
</form></body></html>`;
}

async function form(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

const callback = provider.callback();
http
  .createServer(async (req, res) => {
    try {
      const url = new URL(req.url, issuer);
      if (url.pathname.startsWith('/interaction/')) {
        const details = await provider.interactionDetails(req, res);
        if (req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'text/html' }).end(page(details.uid));
          return;
        }
        const fields = await form(req);
        const login = fields.get('login');
        const person = people[login];
        if (!person || person.password !== fields.get('password')) {
          res.writeHead(200, { 'content-type': 'text/html' }).end(page(details.uid, 'Wrong login or password.'));
          return;
        }
        await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
        return;
      }
      callback(req, res);
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  })
  .listen(port, '127.0.0.1', () => console.log(`test provider on ${issuer}`));
