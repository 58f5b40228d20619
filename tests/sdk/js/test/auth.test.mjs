// Superuser auth through the SDK: authWithPassword, the auth store, authRefresh, bad credentials.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import PocketBase from "pocketbase";

import { SUPERUSER, SUPERUSERS_ID, explain, jwtClaims, rejects, useServer } from "../lib/env.mjs";

let server;
before(async () => (server = await useServer()));
after(() => server.stop());

test("superuser authWithPassword fills the auth store with a superuser auth token", async () => {
    const pb = new PocketBase(server.url);
    const auth = await pb.collection("_superusers").authWithPassword(SUPERUSER.email, SUPERUSER.password);

    assert.equal(auth.record.email, SUPERUSER.email);
    assert.equal(auth.record.collectionId, SUPERUSERS_ID);
    assert.equal(auth.record.collectionName, "_superusers");
    assert.match(auth.record.id, /^[a-z0-9]{15}$/);
    assert.equal(auth.record.password, undefined);
    assert.equal(auth.record.tokenKey, undefined);
    assert.equal(pb.authStore.token, auth.token);
    assert.equal(pb.authStore.record.id, auth.record.id);
    assert.ok(pb.authStore.isValid);
    assert.ok(pb.authStore.isSuperuser);

    const claims = jwtClaims(auth.token);
    assert.equal(claims.type, "auth");
    assert.equal(claims.id, auth.record.id);
    assert.equal(claims.collectionId, SUPERUSERS_ID);
    assert.equal(claims.refreshable, true);
    const lifetime = claims.exp - Date.now() / 1000;
    assert.ok(lifetime > 86400 - 60 && lifetime <= 86400 + 5, `superuser token lifetime ${lifetime}s`);
});

test("the superuser token opens superuser-only endpoints, and without it they answer 401", async () => {
    const pb = new PocketBase(server.url);
    const denied = await rejects(pb.collections.getFullList());
    assert.equal(denied.status, 401, explain(denied));

    await pb.collection("_superusers").authWithPassword(SUPERUSER.email, SUPERUSER.password);
    const collections = await pb.collections.getFullList();
    const names = collections.map((c) => c.name);
    assert.ok(names.includes("_superusers"), names.join(","));
    assert.ok(names.includes("users"), names.join(","));
});

test("authRefresh returns a fresh token for the same superuser and keeps the store valid", async () => {
    const pb = new PocketBase(server.url);
    const first = await pb.collection("_superusers").authWithPassword(SUPERUSER.email, SUPERUSER.password);
    await new Promise((r) => setTimeout(r, 1100)); // a new second, so a new exp
    const refreshed = await pb.collection("_superusers").authRefresh();

    assert.equal(refreshed.record.id, first.record.id);
    assert.equal(refreshed.record.email, SUPERUSER.email);
    assert.notEqual(refreshed.token, first.token);
    assert.equal(pb.authStore.token, refreshed.token);
    assert.ok(jwtClaims(refreshed.token).exp > jwtClaims(first.token).exp);
    assert.ok(pb.authStore.isSuperuser);

    const collections = await pb.collections.getList(1, 1);
    assert.ok(collections.totalItems >= 2);
});

test("authRefresh without a token is rejected with 401", async () => {
    const pb = new PocketBase(server.url);
    const err = await rejects(pb.collection("_superusers").authRefresh());
    assert.equal(err.status, 401, explain(err));
    assert.equal(pb.authStore.token, "");
});

test("a wrong password is rejected with 400 and leaves the auth store empty", async () => {
    const pb = new PocketBase(server.url);
    const err = await rejects(pb.collection("_superusers").authWithPassword(SUPERUSER.email, "not-the-password"));
    assert.equal(err.status, 400, explain(err));
    assert.equal(err.response.message, "Failed to authenticate.");
    assert.equal(pb.authStore.isValid, false);
});
