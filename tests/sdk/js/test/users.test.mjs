// Users through the SDK: sign-up, login, authRefresh, their own record, files.getToken as a
// user, and protected files allowed or denied by the collection's view rule.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import PocketBase from "pocketbase";

import { assertStatus, explain, get, jwtClaims, rejects, superuserClient, unique, useServer } from "../lib/env.mjs";
import { imageSize, makePng } from "../lib/images.mjs";

const PASSWORD = "user-password-123";
const PNG = makePng(64, 48);

let server, admin, usersId;
before(async () => {
    server = await useServer();
    admin = await superuserClient(server.url);
    usersId = (await admin.collections.getOne("users")).id;
});
after(() => server.stop());

/** Sign a new user up as a guest, then log in; returns the logged-in client. */
async function signUpAndLogin(label) {
    const email = `${unique(label)}@example.com`;
    const guest = new PocketBase(server.url);
    const created = await guest.collection("users").create({ email, password: PASSWORD, passwordConfirm: PASSWORD, name: label });
    assert.match(created.id, /^[a-z0-9]{15}$/);
    assert.equal(created.name, label);
    const pb = new PocketBase(server.url);
    await pb.collection("users").authWithPassword(email, PASSWORD);
    return pb;
}

test("a guest signs up and then logs in with email and password", async () => {
    const email = `${unique("signup")}@example.com`;
    const guest = new PocketBase(server.url);
    const created = await guest.collection("users").create({
        email,
        password: PASSWORD,
        passwordConfirm: PASSWORD,
        name: "Sign Up",
        emailVisibility: true,
    });
    assert.equal(created.collectionName, "users");
    assert.equal(created.email, email);
    assert.equal(created.verified, false);
    assert.equal(created.password, undefined);
    assert.equal(guest.authStore.token, "", "sign-up does not log in");

    const pb = new PocketBase(server.url);
    const auth = await pb.collection("users").authWithPassword(email, PASSWORD);
    assert.equal(auth.record.id, created.id);
    assert.equal(auth.record.email, email);
    assert.equal(auth.record.name, "Sign Up");
    assert.equal(pb.authStore.isSuperuser, false);
    const claims = jwtClaims(auth.token);
    assert.deepEqual([claims.type, claims.id, claims.collectionId], ["auth", created.id, usersId]);

    const refreshed = await pb.collection("users").authRefresh();
    assert.equal(refreshed.record.id, created.id);
    assert.equal(pb.authStore.record.email, email);
});

test("sign-up with mismatched passwords or a taken email is rejected with field errors", async () => {
    const guest = new PocketBase(server.url);
    const email = `${unique("dupe")}@example.com`;
    let err = await rejects(guest.collection("users").create({ email, password: PASSWORD, passwordConfirm: "something-else" }));
    assert.equal(err.status, 400, explain(err));
    assert.equal(err.response.data.passwordConfirm.code, "validation_values_mismatch");

    await guest.collection("users").create({ email, password: PASSWORD, passwordConfirm: PASSWORD });
    err = await rejects(guest.collection("users").create({ email, password: PASSWORD, passwordConfirm: PASSWORD }));
    assert.equal(err.status, 400, explain(err));
    assert.equal(err.response.data.email.code, "validation_not_unique");
});

test("a wrong user password is rejected with 400", async () => {
    const pb = await signUpAndLogin("wrongpass");
    const email = pb.authStore.record.email;
    const err = await rejects(new PocketBase(server.url).collection("users").authWithPassword(email, "nope-nope-nope"));
    assert.equal(err.status, 400, explain(err));
    assert.equal(err.response.message, "Failed to authenticate.");
});

test("a user reads and updates their own record (users rules: id = @request.auth.id)", async () => {
    const pb = await signUpAndLogin("self");
    const me = pb.authStore.record;
    const fetched = await pb.collection("users").getOne(me.id);
    assert.equal(fetched.email, me.email);

    const updated = await pb.collection("users").update(me.id, { name: "Renamed", avatar: new File([PNG], "me.png") });
    assert.equal(updated.name, "Renamed");
    assert.match(updated.avatar, /^me[a-z0-9]{10}_[a-z0-9]{10}\.png$/);
    assert.equal(pb.authStore.record.name, "Renamed", "the SDK updates the stored auth record");
    const avatar = await get(pb.files.getURL(updated, updated.avatar, { thumb: "100x100" }));
    assertStatus(avatar, 200);
    assert.deepEqual(imageSize(avatar.body), { type: "png", width: 100, height: 100 });

    const other = await signUpAndLogin("other");
    const err = await rejects(other.collection("users").getOne(me.id));
    assert.equal(err.status, 404, explain(err));
    const list = await other.collection("users").getFullList();
    assert.deepEqual(list.map((u) => u.id), [other.authStore.record.id]);
});

test("getToken as a user returns a file token for that user", async () => {
    const pb = await signUpAndLogin("tokens");
    const token = await pb.files.getToken();
    const claims = jwtClaims(token);
    assert.deepEqual([claims.type, claims.id, claims.collectionId], ["file", pb.authStore.record.id, usersId]);
    const lifetime = claims.exp - Date.now() / 1000;
    assert.ok(lifetime > 170 && lifetime <= 185, `file token lifetime ${lifetime}s`);
});

/** A collection with a protected `doc`, owned through a relation to users, with `viewRule`. */
async function vault(viewRule, owner) {
    const name = unique("vault");
    await admin.collections.create({
        name,
        type: "base",
        listRule: viewRule,
        viewRule,
        fields: [
            { name: "owner", type: "relation", collectionId: usersId, maxSelect: 1 },
            { name: "doc", type: "file", maxSelect: 1, protected: true },
        ],
    });
    return admin.collection(name).create({ owner: owner?.authStore.record.id ?? "", doc: new File([PNG], "doc.png") });
}

test("protected file with viewRule owner = @request.auth.id: the owner's file token opens it, others get 404", async () => {
    const owner = await signUpAndLogin("owner");
    const stranger = await signUpAndLogin("stranger");
    const record = await vault("owner = @request.auth.id", owner);
    const url = (params) => owner.files.getURL(record, record.doc, params);

    const mine = await get(url({ token: await owner.files.getToken() }));
    assertStatus(mine, 200);
    assert.ok(mine.body.equals(PNG));
    const thumb = await get(url({ token: await owner.files.getToken(), thumb: "100x100" }));
    assert.deepEqual(imageSize(thumb.body), { type: "png", width: 100, height: 100 });

    assertStatus(await get(url({ token: await stranger.files.getToken() })), 404);
    assertStatus(await get(url()), 404, "guest");
    assertStatus(await get(url(), { headers: { Authorization: owner.authStore.token } }), 404, "auth header only");
    assertStatus(await get(url({ token: owner.authStore.token })), 404, "auth token as ?token");
    assertStatus(await get(url({ token: await admin.files.getToken() })), 200, "superuser file token");

    const listed = await owner.collection(record.collectionName).getFullList();
    assert.deepEqual(listed.map((r) => r.id), [record.id]);
    assert.deepEqual(await stranger.collection(record.collectionName).getFullList(), []);
});

test("protected file with viewRule @request.auth.collectionName = 'users': any user's file token opens it", async () => {
    const user = await signUpAndLogin("member");
    const record = await vault("@request.auth.id != '' && @request.auth.collectionName = 'users'");
    const url = (params) => user.files.getURL(record, record.doc, params);

    assertStatus(await get(url({ token: await user.files.getToken() })), 200);
    assertStatus(await get(url()), 404, "guest");
});

test("protected file with viewRule null: a user's file token is denied, the superuser's allowed", async () => {
    const user = await signUpAndLogin("nullrule");
    const record = await vault(null, user);
    const url = (params) => user.files.getURL(record, record.doc, params);

    assertStatus(await get(url({ token: await user.files.getToken() })), 404);
    const ok = await get(url({ token: await admin.files.getToken() }));
    assertStatus(ok, 200);
    assert.ok(ok.body.equals(PNG));
});

test("protected file with an empty viewRule is open to guests without a token", async () => {
    const record = await vault("");
    const res = await get(new PocketBase(server.url).files.getURL(record, record.doc));
    assertStatus(res, 200);
    assert.ok(res.body.equals(PNG));
});
