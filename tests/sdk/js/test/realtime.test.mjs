// Realtime through the SDK: subscribe to a collection and to one record, the create/update/delete
// events, unsubscribe, and a user who only hears about the records the list rule lets them see.
// Node 20 has no EventSource: the `eventsource` package stands in for the browser's, as the
// SDK's documentation advises for Node.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { EventSource } from "eventsource";
import PocketBase from "pocketbase";

import { superuserClient, unique, useServer } from "../lib/env.mjs";

globalThis.EventSource ??= EventSource;

const PASSWORD = "user-password-123";

let server, admin, name;
before(async () => {
    server = await useServer();
    admin = await superuserClient(server.url);
    name = unique("live");
    await admin.collections.create({
        name,
        type: "base",
        listRule: "owner = @request.auth.id || owner = ''",
        viewRule: "",
        fields: [
            { name: "title", type: "text" },
            { name: "owner", type: "relation", collectionId: "_pb_users_auth_", maxSelect: 1 },
        ],
    });
});
after(async () => {
    admin.realtime.unsubscribe();
    await server.stop();
});

/** Events land in a list; `next()` resolves with the next one, waiting if none is there yet. */
function inbox() {
    const events = [];
    const waiting = [];
    return {
        push(event) {
            const wake = waiting.shift();
            wake ? wake(event) : events.push(event);
        },
        next() {
            return events.length ? Promise.resolve(events.shift()) : new Promise((resolve) => waiting.push(resolve));
        },
    };
}

test("a subscriber to every record hears create, update and delete with the record", async () => {
    const pb = new PocketBase(server.url);
    const box = inbox();
    const unsubscribe = await pb.collection(name).subscribe("*", (e) => box.push(e));
    try {
        const created = await admin.collection(name).create({ title: "one" });
        assert.deepEqual(await box.next(), { action: "create", record: created });
        const updated = await admin.collection(name).update(created.id, { title: "two" });
        assert.deepEqual(await box.next(), { action: "update", record: updated });
        await admin.collection(name).delete(created.id);
        assert.deepEqual(await box.next(), { action: "delete", record: updated });
    } finally {
        await unsubscribe();
    }
});

test("a subscriber to one record hears only about it, with its options applied", async () => {
    const pb = new PocketBase(server.url);
    const watched = await admin.collection(name).create({ title: "watched" });
    const box = inbox();
    await pb.collection(name).subscribe(watched.id, (e) => box.push(e), { fields: "id,title" });
    try {
        await admin.collection(name).create({ title: "other" });
        await admin.collection(name).update(watched.id, { title: "changed" });
        assert.deepEqual(await box.next(), { action: "update", record: { id: watched.id, title: "changed" } });
    } finally {
        pb.realtime.unsubscribe();
    }
});

test("after unsubscribing from one topic, only the others are heard", async () => {
    const pb = new PocketBase(server.url);
    const all = inbox();
    const one = inbox();
    const marker = await admin.collection(name).create({ title: "marker" });
    const stopAll = await pb.collection(name).subscribe("*", (e) => all.push(e));
    await pb.collection(name).subscribe(marker.id, (e) => one.push(e));
    await stopAll();
    await admin.collection(name).create({ title: "unheard" });
    await admin.collection(name).update(marker.id, { title: "heard" });
    assert.equal((await one.next()).record.title, "heard");
    pb.realtime.unsubscribe();
});

test("a user hears only the records the list rule lets them see", async () => {
    const email = `${unique("live")}@example.com`;
    const user = await admin.collection("users").create({ email, password: PASSWORD, passwordConfirm: PASSWORD });
    const other = await admin.collection("users").create({
        email: `${unique("other")}@example.com`, password: PASSWORD, passwordConfirm: PASSWORD,
    });
    const pb = new PocketBase(server.url);
    await pb.collection("users").authWithPassword(email, PASSWORD);
    const box = inbox();
    await pb.collection(name).subscribe("*", (e) => box.push(e));
    try {
        await admin.collection(name).create({ title: "not yours", owner: other.id });
        await admin.collection(name).create({ title: "yours", owner: user.id });
        const event = await box.next();
        assert.equal(event.record.title, "yours");
        assert.equal(event.record.owner, user.id);
    } finally {
        pb.realtime.unsubscribe();
    }
});
