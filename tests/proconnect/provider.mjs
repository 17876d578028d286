// A real OpenID provider for the tests of the ProConnect login: Node's oidc-provider
// (package.json's devDependencies), configured like ProConnect where it matters to us:
// authorization code flow with PKCE, client_secret_post, RS256 ID tokens, a signed JWT from
// the userinfo endpoint, acr values eidas1..3 and RP-initiated logout.
//
// Configuration comes as JSON in the OIDC_TEST_CONFIG environment variable:
//   {"port": 0, "client": {"client_id", "client_secret", "redirect_uris",
//    "post_logout_redirect_uris"}, "accounts": {"<login>": {"email", "email_verified",
//    "acr", "amr"}}}
// The login page is a plain form (GET /interaction/<uid>) whose field « login » names one
// of the accounts; consent is implied (first-party client). The line « ready <issuer> » is
// printed once the server listens.
import http from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG);
const accounts = config.accounts;
const SCOPES = ['openid', 'email', 'given_name', 'usual_name'];

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

const server = http.createServer();
server.listen(config.port || 0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      ...config.client,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
      userinfo_signed_response_alg: 'RS256',
    }],
    scopes: SCOPES,
    claims: {
      openid: ['sub'],
      amr: null,
      email: ['email', 'email_verified'],
      given_name: ['given_name'],
      usual_name: ['usual_name'],
    },
    acrValues: ['eidas1', 'eidas2', 'eidas3'],
    cookies: { keys: ['tests-only-cookie-key'] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = `<!DOCTYPE html><html><body>${form}
            <button type="submit" form="op.logoutForm" value="yes" name="logout">Se déconnecter</button>
            </body></html>`;
        },
      },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, sub) {
      const account = accounts[sub];
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            email: account.email,
            email_verified: account.email_verified,
            given_name: account.given_name || 'Inès',
            usual_name: account.usual_name || 'Agent',
          };
        },
      };
    },
    // A first-party client: the grant of every scope is implied, no consent page.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        const grant = await ctx.oidc.provider.Grant.find(grantId);
        if (grant) return grant;
      }
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(SCOPES.join(' '));
      await grant.save();
      return grant;
    },
  });
  // No TLS here: the provider trusts the plain-HTTP loopback address it is told.
  provider.proxy = false;

  provider.use(async (ctx, next) => {
    const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
    if (!match) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (ctx.method === 'GET' && !match[2]) {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html><body>
        <form method="post" action="/interaction/${escape(details.uid)}/login">
        <label>Identifiant <input name="login"></label><button type="submit">Connexion</button>
        </form></body></html>`;
      return undefined;
    }
    if (ctx.method === 'POST' && match[2]) {
      const form = await readForm(ctx.req);
      const login = form.get('login');
      const account = accounts[login];
      const result = account
        ? { login: { accountId: login, acr: account.acr, amr: account.amr } }
        : { error: 'access_denied', error_description: 'unknown login' };
      const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
        mergeWithLastSubmission: false,
      });
      ctx.status = 303;
      ctx.redirect(returnTo);
      return undefined;
    }
    return next();
  });

  server.on('request', provider.callback());
  process.stdout.write(`ready ${issuer}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
