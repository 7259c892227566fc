// End to end with real clients (make e2e): the built `coalition serve` on a free port with a fresh
// SQLite database and a real SMTP server; graphql-request as the GraphQL client; headless Chromium
// (puppeteer-core driving Debian's /usr/bin/chromium) on the real sign-in page and GraphiQL.
// Screenshots go to test-artifacts/e2e/ (COALITION_TEST_ARTIFACTS=DIR writes them elsewhere).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  GraphQLSchema, buildClientSchema, buildSchema, getIntrospectionQuery, lexicographicSortSchema, parse, printSchema, validate,
} from 'graphql';
import puppeteer from 'puppeteer-core';

import { Mailbox, Service, linkIn, noUserErrors, ok, pdf, root, upload } from './harness.mjs';
import { operations, split } from './readme.mjs';

const published = buildSchema(readFileSync(path.join(root, 'graph', 'schema.graphql'), 'utf8'));
const artifacts = path.join(process.env.COALITION_TEST_ARTIFACTS || path.join(root, 'test-artifacts'), 'e2e');

const STAFF = 'office@coalition.example.org';
const STAFF2 = 'sofia.lindqvist@coalition.example.org';
const CLAIRE = 'claire.martin@chu-exemple.example.fr';
const LUKAS = 'lukas.becker@klinikum-musterstadt.example.de';
const JANA = 'jana.novakova@fnbrno.example.cz';
const RITA = 'rita.reader@example.org';

// dates in the call's future, as the README's example computes them.
const day = (d) => d.toISOString().slice(0, 10);
const plusDays = (n) => new Date(Date.now() + n * 86400000);
function nextMonday(weeksAhead) {
  const d = plusDays(weeksAhead * 7);
  d.setUTCDate(d.getUTCDate() + ((8 - d.getUTCDay()) % 7 || 7));
  return d;
}

describe('coalition end to end', () => {
  let mailbox;
  let svc;
  let staffToken;

  before(async () => {
    mailbox = await new Mailbox().start();
    svc = new Service(mailbox);
    // Setup without an API: the first member of staff, from the CLI (before serve, same database).
    svc.port = 0;
    staffToken = svc
      .cli('user', 'create', '--staff', '--name', 'Coalition Office', '--token', 'setup', '--print-token-only', STAFF)
      .trim();
    assert.match(staffToken, /^ct_/);
    await svc.start();
  });

  after(async () => {
    if (svc) await svc.stop();
    if (mailbox) await mailbox.stop();
  });

  test('every GraphQL operation in README.md validates against graph/schema.graphql', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const ops = operations(readme);
    assert.ok(ops.length >= 40, `only ${ops.length} operations found in README.md: the extraction is broken`);
    const problems = [];
    for (const op of ops) {
      let docs;
      try {
        docs = split(op.source);
      } catch (err) {
        problems.push(`README.md:${op.line}: ${err.message}\n${op.source}`);
        continue;
      }
      for (const doc of docs) {
        for (const e of validate(published, doc)) problems.push(`README.md:${op.line}: ${e.message}`);
      }
    }
    assert.deepEqual(problems, []);
    // The check can fail: an operation the schema does not have is refused.
    assert.ok(validate(published, parse('{ me { email shoeSize } }')).length > 0);
  });

  test('graph/schema.graphql is the schema the server answers introspection with', async () => {
    const r = await svc.client(staffToken).request(getIntrospectionQuery());
    const served = buildClientSchema(r);
    // Types, fields, arguments and descriptions must be the same; directive definitions are
    // compared by name (the server also declares gqlgen's own and @defer).
    const types = (s) => printSchema(lexicographicSortSchema(new GraphQLSchema({ ...s.toConfig(), directives: [] })));
    assert.equal(types(served), types(published));
    const names = (s) => s.getDirectives().map((d) => d.name);
    for (const name of names(published)) assert.ok(names(served).includes(name), `directive @${name} is not served`);
  });

  test('trainee and staff journeys', async () => {
    const staff = svc.client(staffToken);

    // Staff: a second member of staff (campaigns need two) and two host coordinators, each of
    // whom signs in through the link emailed to them.
    const users = {};
    for (const [email, name, roles] of [
      [STAFF2, 'Sofia Lindqvist', ['STAFF']],
      [CLAIRE, 'Claire Martin', ['HOST_COORDINATOR']],
      [LUKAS, 'Lukas Becker', ['HOST_COORDINATOR']],
    ]) {
      const r = await staff.request(
        `mutation($in: CreateUserInput!) { createUser(input: $in) { user { id email roles } userErrors { field code message } } }`,
        { in: { email, name, roles } },
      );
      users[email] = noUserErrors(r.createUser, 'createUser').user.id;
    }
    const staff2 = svc.client(await svc.signIn(STAFF2));

    // Staff: the directory (the trainee's hospital, two host centres with their coordinators).
    const org = async (name, country, city) => noUserErrors((await staff.request(
      `mutation($in: CreateOrganisationInput!) { createOrganisation(input: $in) { organisation { id } userErrors { field code message } } }`,
      { in: { name, kind: 'HOSPITAL', country, city } },
    )).createOrganisation, 'createOrganisation').organisation.id;
    const brno = await org('Fakultní nemocnice Exemplář, Brno (fictional)', 'CZ', 'Brno');
    const centres = {};
    for (const [key, orgName, name, country, city, coordinator] of [
      ['lyon', 'Hôpital Saint-Exemple, Lyon (fictional)', 'CAR-T Unit, Hôpital Saint-Exemple', 'FR', 'Lyon', CLAIRE],
      ['muster', 'Klinikum Musterstadt (fictional)', 'Zelltherapie Musterstadt', 'DE', 'Musterstadt', LUKAS],
    ]) {
      const o = await org(orgName, country, city);
      const c = noUserErrors((await staff.request(
        `mutation($in: CreateHostCentreInput!) { createHostCentre(input: $in) { hostCentre { id } userErrors { field code message } } }`,
        { in: { organisationId: o, name, city, country, languages: ['en'], adult: true, paediatric: false, focusAreas: ['LYMPHOMA'], acceptingObservers: true } },
      )).createHostCentre, 'createHostCentre').hostCentre.id;
      noUserErrors((await staff.request(
        `mutation($in: HostCoordinatorInput!) { addHostCoordinator(input: $in) { hostCentre { id } userErrors { field code message } } }`,
        { in: { hostCentreId: c, userId: users[coordinator] } },
      )).addHostCoordinator, 'addHostCoordinator');
      centres[key] = { id: c, coordinator: svc.client(await svc.signIn(coordinator)) };
    }

    // Staff open a call; each host offers a slot, staff approve them and open the call.
    const pstart = nextMonday(7);
    const pend = new Date(pstart.getTime() + 12 * 7 * 86400000);
    const call = noUserErrors((await staff.request(
      `mutation($in: CreateCallInput!) { createCall(input: $in) { call { id status } userErrors { field code message } } }`,
      {
        in: {
          title: 'Observership pilot (e2e)', opens: `${day(plusDays(0))}T00:00`, closes: `${day(plusDays(30))}T17:00`,
          rankingDeadline: `${day(plusDays(45))}T17:00`, timeZone: 'Europe/Brussels',
          placementStart: day(pstart), placementEnd: day(pend), placementWeeks: [1, 2],
          eligibleCountries: ['CZ', 'RO', 'PL', 'IE'], fundedPlaces: 2,
          requiredDocuments: ['CV', 'MOTIVATION_LETTER', 'SUPPORT_LETTER'], refereeLetters: 0,
          reviewCriteria: [{ key: 'motivation', name: 'Motivation and fit', weight: 100 }],
        },
      },
    )).createCall, 'createCall').call.id;
    for (const c of Object.values(centres)) {
      const slot = noUserErrors((await c.coordinator.request(
        `mutation($in: ProposeSlotInput!) { proposeSlot(input: $in) { slot { id status } userErrors { field code message } } }`,
        { in: { callId: call, hostCentreId: c.id, startDate: day(pstart), weeks: 2, capacity: 1 } },
      )).proposeSlot, 'proposeSlot').slot.id;
      const approved = noUserErrors((await staff.request(
        `mutation($id: ID!) { approveSlot(input: {id: $id}) { slot { status } userErrors { code message } } }`, { id: slot },
      )).approveSlot, 'approveSlot');
      assert.equal(approved.slot.status, 'APPROVED');
    }
    const opened = noUserErrors((await staff.request(
      `mutation($id: ID!) { openCall(input: {id: $id}) { call { status acceptingApplications } userErrors { code message } } }`, { id: call },
    )).openCall, 'openCall');
    assert.deepEqual(opened.call, { status: 'OPEN', acceptingApplications: true });

    // Trainee: signs in through the emailed link (first sign-in makes her a TRAINEE).
    const janaToken = await svc.signIn(JANA);
    const jana = svc.client(janaToken);
    assert.deepEqual((await jana.request('{ me { email roles } }')).me, { email: JANA, roles: ['TRAINEE'] });

    // Anyone sees the open call and its slots.
    const open = await svc.client().request(
      `{ calls(first: 5, filter: {status: OPEN}) { edges { node { id slots(first: 20) { edges { node { hostCentre { name } } } } } } } }`,
    );
    assert.equal(open.calls.edges.length, 1);
    assert.equal(open.calls.edges[0].node.slots.edges.length, 2);

    // Trainee: applies, ranking Musterstadt first and Lyon second, with three PDFs uploaded
    // as GraphQL multipart requests, and submits.
    const saved = noUserErrors((await jana.request(
      `mutation($in: SaveApplicationInput!) { saveApplication(input: $in) { application { id status missing hostChoices { id } } userErrors { field code message } } }`,
      {
        in: {
          callId: call, homeOrganisationId: brno, role: 'Haematology consultant', cartExperienceYears: 3,
          languages: ['cs', 'en'], focusAreas: ['LYMPHOMA'],
          motivation: 'Our centre starts treating lymphoma patients with CAR-T cells next year. I want to learn how an experienced team selects patients and manages cytokine release syndrome.',
          availability: [{ from: day(pstart), to: day(pend) }], preferredWeeks: 2,
          hostCentreIds: [centres.muster.id, centres.lyon.id],
        },
      },
    )).saveApplication, 'saveApplication').application;
    assert.equal(saved.status, 'DRAFT');
    assert.deepEqual(saved.hostChoices.map((h) => h.id), [centres.muster.id, centres.lyon.id]);
    assert.equal(saved.missing.length, 3, `missing: ${saved.missing}`);
    const uploadQ = `mutation($in: UploadDocumentInput!) { uploadDocument(input: $in) { document { id kind filename } userErrors { field code message } } }`;
    for (const kind of ['CV', 'MOTIVATION_LETTER', 'SUPPORT_LETTER']) {
      const name = `${kind.toLowerCase()}.pdf`;
      const d = await upload(svc, janaToken, uploadQ, { in: { applicationId: saved.id, kind, file: null } }, 'variables.in.file', pdf(`Jana ${kind}`), name);
      assert.deepEqual(noUserErrors(d.uploadDocument, 'uploadDocument').document.kind, kind);
    }
    // A file that is not a PDF is refused with a user error, and nothing is stored.
    const bad = await upload(svc, janaToken, uploadQ, { in: { applicationId: saved.id, kind: 'CV', file: null } }, 'variables.in.file', Buffer.from('hello'), 'cv.pdf');
    assert.equal(bad.uploadDocument.document, null);
    assert.ok(bad.uploadDocument.userErrors.length > 0);
    const submitted = noUserErrors((await jana.request(
      `mutation($id: ID!) { submitApplication(input: {id: $id}) { application { status documents { kind filename } } userErrors { field code message } } }`,
      { id: saved.id },
    )).submitApplication, 'submitApplication').application;
    assert.equal(submitted.status, 'SUBMITTED');
    assert.deepEqual(submitted.documents.map((d) => d.filename).sort(), ['cv.pdf', 'motivation_letter.pdf', 'support_letter.pdf']);
    const summary = await mailbox.next(JANA, /^Application submitted: Observership pilot \(e2e\)/);
    // It repeats her ranking of the host centres.
    assert.match(summary.text, /Host centres, in your order:\n\s+1\. Zelltherapie Musterstadt\n\s+2\. CAR-T Unit, Hôpital Saint-Exemple\n/);

    // Staff: close early, decide eligibility, review, ranking; each host ranks Jana.
    const step = async (q, vars, field) => noUserErrors((await staff.request(q, vars))[field], field);
    await step(`mutation($id: ID!) { closeCall(input: {id: $id, force: true, reason: "e2e: closing before the deadline"}) { call { status } userErrors { field code message } } }`, { id: call }, 'closeCall');
    await step(`mutation($id: ID!) { decideEligibility(input: {id: $id, eligible: true}) { application { status } userErrors { field code message } } }`, { id: saved.id }, 'decideEligibility');
    await step(`mutation($id: ID!) { startReview(input: {id: $id}) { call { status } userErrors { field code message } } }`, { id: call }, 'startReview');
    await step(`mutation($id: ID!) { startRanking(input: {id: $id}) { call { status } userErrors { field code message } } }`, { id: call }, 'startRanking');
    for (const c of Object.values(centres)) {
      noUserErrors((await c.coordinator.request(
        `mutation($in: SubmitHostRankingInput!) { submitHostRanking(input: $in) { ranking { id } userErrors { field code message } } }`,
        { in: { callId: call, hostCentreId: c.id, applicationIds: [saved.id] } },
      )).submitHostRanking, 'submitHostRanking');
    }

    // Staff: run the match and publish it. Jana gets her first choice, Musterstadt.
    const run = (await step(
      `mutation($in: StartMatchRunInput!) { startMatchRun(input: $in) { matchRun { id matched blockingPairs } userErrors { field code message } } }`,
      { in: { callId: call, dryRun: false } }, 'startMatchRun')).matchRun;
    assert.deepEqual({ matched: run.matched, blockingPairs: run.blockingPairs }, { matched: 1, blockingPairs: 0 });
    await step(`mutation($id: ID!) { publishMatchRun(input: {id: $id}) { matchRun { publishedAt } userErrors { field code message } } }`, { id: run.id }, 'publishMatchRun');
    const offer = await mailbox.next(JANA, /^Your observership offer: Zelltherapie Musterstadt/);
    assert.match(offer.text, /To accept the offer, open this link/);

    // Trainee: reads her offer and accepts it; the host confirms; the confirmation carries the
    // calendar invitation, which she downloads from the email.
    const outcome = (await jana.request(
      `query($id: ID!) { node(id: $id) { ... on Application { outcome { placement { id status hostCentre { id name } } } } } }`, { id: saved.id },
    )).node.outcome;
    assert.equal(outcome.placement.status, 'OFFERED');
    assert.equal(outcome.placement.hostCentre.id, centres.muster.id);
    const placement = outcome.placement.id;
    const accepted = noUserErrors((await jana.request(
      `mutation($id: ID!) { acceptPlacement(input: {id: $id}) { placement { status } userErrors { field code message } } }`, { id: placement },
    )).acceptPlacement, 'acceptPlacement');
    assert.equal(accepted.placement.status, 'ACCEPTED');
    const confirmed = noUserErrors((await centres.muster.coordinator.request(
      `mutation($id: ID!) { confirmPlacement(input: {id: $id}) { placement { status sequence } userErrors { field code message } } }`, { id: placement },
    )).confirmPlacement, 'confirmPlacement');
    assert.equal(confirmed.placement.status, 'CONFIRMED');
    const confirmation = await mailbox.next(JANA, /^Placement confirmed/);
    const ics = confirmation.attachments.find((a) => /calendar/.test(a.contentType) || /\.ics$/.test(a.filename || ''));
    ok(ics, confirmation.attachments.map((a) => [a.contentType, a.filename]));
    const cal = ics.content.toString('utf8');
    assert.match(cal, /BEGIN:VCALENDAR/);
    assert.match(cal, new RegExp(`UID:${placement}@`));
    assert.match(cal, new RegExp(`DTSTART;VALUE=DATE:${day(pstart).replaceAll('-', '')}`));
    mkdirSync(artifacts, { recursive: true });

    // Staff: a newsletter list with a confirmed subscriber (Rita confirms through the emailed
    // link), a campaign written by one member of staff, approved by the other, sent now.
    const list = (await step(
      `mutation { createMailingList(input: {name: "Quarterly newsletter", slug: "quarterly", visibility: PUBLIC}) { list { id } userErrors { field code message } } }`,
      {}, 'createMailingList')).list.id;
    noUserErrors((await svc.client().request(
      `mutation($email: String!) { subscribe(input: {email: $email, name: "Rita Reader", lists: ["quarterly"]}) { message userErrors { field code message } } }`,
      { email: RITA },
    )).subscribe, 'subscribe');
    const optIn = await mailbox.next(RITA, /./);
    const confirmToken = new URL(linkIn(optIn, svc.url)).searchParams.get('token');
    noUserErrors((await svc.client().request(
      `mutation($token: String!) { confirmSubscription(input: {token: $token}) { lists userErrors { field code message } } }`,
      { token: confirmToken },
    )).confirmSubscription, 'confirmSubscription');
    const campaign = (await step(
      `mutation($in: CreateCampaignInput!) { createCampaign(input: $in) { campaign { id status } userErrors { field code message } } }`,
      { in: { subject: 'Quarterly newsletter (e2e)', preheader: 'Two host centres', body: '# Hello {{name}}\n\nTwo **host centres** joined.', listIds: [list] } },
      'createCampaign')).campaign.id;
    // The author may not approve their own campaign.
    await assert.rejects(
      staff.request(`mutation($id: ID!) { approveCampaign(input: {id: $id}) { campaign { status } userErrors { code } } }`, { id: campaign }),
      (err) => err.response?.errors?.[0]?.extensions?.code === 'FORBIDDEN',
    );
    noUserErrors((await staff2.request(
      `mutation($id: ID!) { approveCampaign(input: {id: $id}) { campaign { status } userErrors { code message } } }`, { id: campaign },
    )).approveCampaign, 'approveCampaign');
    await step(`mutation($id: ID!) { sendCampaignNow(input: {id: $id}) { campaign { status } userErrors { field code message } } }`, { id: campaign }, 'sendCampaignNow');
    const issue = await mailbox.next(RITA, /^Quarterly newsletter \(e2e\)/);
    assert.match(issue.text, /Hello Rita Reader/);
    // Its footer links the one-click unsubscribe page (the List-Unsubscribe header needs an
    // https public address, which this loopback service does not have).
    assert.ok(linkIn(issue, `${svc.url}/newsletter/unsubscribe`));
    assert.ok(issue.headerLines.some((h) => h.key === 'list-id'), 'List-Id header');
  });

  test('Chromium signs in through the emailed link and opens GraphiQL', async () => {
    mkdirSync(artifacts, { recursive: true });
    const browser = await puppeteer.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 900 });
      const skip = mailbox.messages.filter((m) => m.envelopeTo.includes(STAFF) && /sign-in link/i.test(m.subject)).length;
      noUserErrors((await svc.client().request(
        `mutation($email: String!) { requestLoginLink(input: {email: $email}) { accepted userErrors { code message } } }`, { email: STAFF },
      )).requestLoginLink, 'requestLoginLink');
      const link = linkIn(await mailbox.next(STAFF, /sign-in link/i, { skip }), `${svc.url}/signin`);
      await page.goto(link, { waitUntil: 'load' });
      await page.screenshot({ path: path.join(artifacts, '1-signin-page.png') });
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('form button[type=submit]')]);
      const signedIn = await page.evaluate(() => document.body.innerText);
      await page.screenshot({ path: path.join(artifacts, '2-signed-in.png') });
      assert.match(signedIn, /signed in/i);
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('a[href$="/graphiql"]')]);
      await page.waitForSelector('.graphiql-container', { timeout: 20000 });
      // GraphiQL runs its default query ({ me { … } }) with the session the sign-in page gave
      // this browser, and shows who is signed in.
      await page.click('.graphiql-execute-button');
      await page.waitForFunction(
        (email) => (document.querySelector('.graphiql-response')?.innerText || '').includes(email),
        { timeout: 20000 }, STAFF,
      );
      await page.screenshot({ path: path.join(artifacts, '3-graphiql.png') });
      const response = await page.$eval('.graphiql-response', (el) => el.innerText);
      assert.match(response, /"roles"/);
      assert.match(response, /STAFF/);
    } finally {
      await browser.close();
    }
  });
});
