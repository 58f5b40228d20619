"""Shared data for the filter differential tests: collections, records and filter expressions.

The same collections and records are created in the reference PocketBase and in Satchel
(ids fixed, relations by record id) so that a filter can be compared by the ids it returns.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from satchel.core.collections import collection_id

Call = Callable[..., Any]  # call(method, path, json=..., headers=...) -> httpx-like response

PASSWORD = "password-123"


def _rel(name: str, target: str, many: int = 1, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "relation", "collection": target, "maxSelect": many, **extra}


COLLECTIONS: list[dict[str, Any]] = [
    {"name": "teams", "fields": [{"name": "name", "type": "text"}, {"name": "rank", "type": "number"}]},
    {
        "name": "authors",
        "fields": [
            {"name": "name", "type": "text"},
            {"name": "age", "type": "number"},
            {"name": "active", "type": "bool"},
            _rel("team", "teams"),
            {"name": "skills", "type": "select", "values": ["go", "py", "js", "rs"], "maxSelect": 4},
            {"name": "mail", "type": "email"},
        ],
    },
    {
        "name": "posts",
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "n", "type": "number"},
            {"name": "b", "type": "bool"},
            {"name": "d", "type": "date"},
            {"name": "tags", "type": "select", "values": ["a", "b", "c", "d"], "maxSelect": 4},
            {"name": "cat", "type": "select", "values": ["x", "y", "z"], "maxSelect": 1},
            {"name": "j", "type": "json"},
            _rel("author", "authors"),
            _rel("editors", "authors", 5),
            _rel("owner", "users"),
            {"name": "secret", "type": "text", "hidden": True},
            {"name": "site", "type": "url"},
        ],
    },
    {
        "name": "comments",
        "fields": [{"name": "msg", "type": "text"}, _rel("post", "posts"), {"name": "likes", "type": "number"}, _rel("by", "authors")],
    },
    {"name": "bundles", "fields": [{"name": "name", "type": "text"}, _rel("items", "posts", 10)]},
    {
        "name": "profiles",
        "fields": [{"name": "bio", "type": "text"}, _rel("author", "authors")],
        "indexes": ["CREATE UNIQUE INDEX `idx_profiles_author` ON `profiles` (`author`)"],
    },
    {"name": "notes", "fields": [{"name": "body", "type": "text"}, {"name": "tags", "type": "json"}]},
]

OPEN_RULES = {"listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": ""}


def _id(prefix: str, n: int) -> str:
    return f"{prefix}{n:0{15 - len(prefix)}d}"


T = [_id("team", i) for i in range(4)]
A = [_id("author", i) for i in range(5)]
P = [_id("post", i) for i in range(10)]
C = [_id("comment", i) for i in range(8)]
U = [_id("user", i) for i in range(3)]
BUNDLES = [_id("bundle", i) for i in range(3)]
PROFILES = [_id("profile", i) for i in range(3)]
# Texts with quotes, backslashes and control characters, for the escapes inside quoted filter literals.
NOTE_BODIES = [
    "It's \"quoted\"", "back\\slash", "tab\there", "new\nline", "cr\rx", "a\\sb", "caf\\u00e9", "café", "back\\",
    "x\\\\y", "\\x41", "A", "lit\\t", "lit\\n", "bs\bx", "q'", 'q"', "100%", "a_b", "a\\_b", "a\\%b", "dq\\\"", "\t", "",
]
NOTES = [_id("note", i) for i in range(len(NOTE_BODIES))]

# JSON objects are written with sorted keys: the reference stores them so (Go marshals maps sorted).
RECORDS: list[tuple[str, dict[str, Any]]] = [
    ("users", {"id": U[1], "email": "ann@example.com", "name": "Ann", "emailVisibility": True}),
    ("users", {"id": U[2], "email": "bob@example.com", "name": "Bob"}),
    ("teams", {"id": T[1], "name": "Red", "rank": 1}),
    ("teams", {"id": T[2], "name": "Blue", "rank": 2}),
    ("teams", {"id": T[3], "name": "", "rank": 0}),
    ("authors", {"id": A[1], "name": "Ann", "age": 30, "active": True, "team": T[1], "skills": ["go", "py"], "mail": "ann@a.io"}),
    ("authors", {"id": A[2], "name": "Bob", "age": 25, "active": False, "team": T[2], "skills": ["js"]}),
    ("authors", {"id": A[3], "name": "cid", "age": 40.5, "active": True, "team": T[1], "skills": []}),
    ("authors", {"id": A[4], "name": "", "age": 0, "active": False, "team": "", "skills": ["py", "rs"]}),
    ("posts", {"id": P[1], "title": "Hello World", "n": 5, "b": True, "d": "2024-01-02 10:00:00.000Z", "tags": ["a", "b"], "cat": "x",
               "j": {"arr": [1, 2, {"k": "v"}], "nested": {"a": {"b": True}}, "s": "str", "x": 1}, "author": A[1], "editors": [A[1], A[2]],
               "owner": U[1], "secret": "s1", "site": "https://a.io/x"}),
    ("posts", {"id": P[2], "title": "hello", "n": 0, "b": False, "d": "2023-06-30 23:59:59.999Z", "tags": ["b"], "cat": "y", "j": 5,
               "author": A[2], "editors": [A[2]], "owner": U[2], "secret": "s2"}),
    ("posts", {"id": P[3], "title": "5", "n": -1.5, "b": True, "tags": [], "j": "5", "author": A[1], "editors": [], "secret": ""}),
    ("posts", {"id": P[4], "title": "100%_sure\\ok", "n": 100, "tags": ["a", "c", "d"], "cat": "z", "j": [1, "a", None],
               "author": A[3], "editors": [A[1], A[3]], "owner": U[1]}),
    ("posts", {"id": P[5], "title": "", "n": 1e6, "d": "2030-12-31 00:00:00.000Z", "tags": ["d"], "j": None, "author": A[4],
               "editors": [A[4]]}),
    ("posts", {"id": P[6], "title": "Ünïcode ÄB ab", "n": 2.25, "b": True, "j": {"s": "", "x": "1"}, "editors": [A[1], A[2], A[3]]}),
    ("posts", {"id": P[7], "title": "it's \"quoted\"", "n": 7, "tags": ["a"], "cat": "x", "j": True, "author": A[2],
               "editors": [A[2], A[4]], "site": "http://b.io"}),
    ("posts", {"id": P[8], "title": "null", "n": 1, "j": {"arr": [], "x": 1.5}, "author": A[3], "editors": [A[3]], "tags": ["c"]}),
    ("posts", {"id": P[9], "title": "0", "n": 0.5, "j": False, "tags": ["a", "b", "c", "d"], "cat": "y", "editors": [A[4], A[1]]}),
    ("comments", {"id": C[1], "msg": "first", "post": P[1], "likes": 3, "by": A[1]}),
    ("comments", {"id": C[2], "msg": "second", "post": P[1], "likes": 0, "by": A[2]}),
    ("comments", {"id": C[3], "msg": "third", "post": P[2], "likes": 10, "by": A[1]}),
    ("comments", {"id": C[4], "msg": "", "post": P[4], "likes": 1, "by": A[3]}),
    ("comments", {"id": C[5], "msg": "Hello", "post": P[4], "likes": 1}),
    ("comments", {"id": C[6], "msg": "orphan", "post": "", "likes": 2, "by": A[4]}),
    ("bundles", {"id": BUNDLES[1], "name": "one", "items": [P[1], P[2]]}),
    ("bundles", {"id": BUNDLES[2], "name": "two", "items": [P[2], P[3], P[4]]}),
    ("profiles", {"id": PROFILES[1], "bio": "ann bio", "author": A[1]}),
    ("profiles", {"id": PROFILES[2], "bio": "", "author": A[2]}),
    *[("notes", {"id": note, "body": body, "tags": [body, "plain"]}) for note, body in zip(NOTES, NOTE_BODIES, strict=True)],
]


def load(call: Call, admin: dict[str, str], rules: dict[str, dict[str, Any]] | None = None) -> None:
    """Create the collections and records through the HTTP API of either server."""
    ids: dict[str, str] = {"users": "_pb_users_auth_"}
    for spec in COLLECTIONS:
        fields = []
        for field in spec["fields"]:
            field = dict(field)
            if field["type"] == "relation":
                field["collectionId"] = ids[field.pop("collection")]
            fields.append(field)
        body = {**OPEN_RULES, **spec, "fields": fields, **((rules or {}).get(spec["name"], {}))}
        response = call("POST", "/api/collections", json=body, headers=admin)
        assert response.status_code == 200, response.text
        ids[spec["name"]] = response.json()["id"]
    for name, record in RECORDS:
        body = dict(record)
        if name == "users":
            body.update(password=PASSWORD, passwordConfirm=PASSWORD)
        response = call("POST", f"/api/collections/{name}/records", json=body, headers=admin)
        assert response.status_code == 200, (name, record["id"], response.text)


# -- filter expressions ---------------------------------------------------------------------------

OPS = ["=", "!=", ">", ">=", "<", "<=", "~", "!~", "?=", "?!=", "?>", "?>=", "?<", "?<=", "?~", "?!~"]
LITERALS = ['""', '"a"', '"5"', "5", "0", "-1", "1.5", "true", "false", "null", '"%a%"', '"Hello"', '"100%"', '"_"']


def _grid(fields: list[str], ops: list[str], literals: list[str]) -> list[str]:
    return [f"{f} {op} {lit}" for f, op, lit in itertools.product(fields, ops, literals)]


POSTS: list[str] = [
    # plain fields against literals of every kind
    *_grid(["title", "n", "b", "cat"], ["=", "!=", ">", "<", "~", "!~"], LITERALS),
    *_grid(["d"], ["=", ">", "<", "~"], ['""', '"2024"', '"2024-01-02 10:00:00.000Z"', "@now", "@yesterday", "@todayStart", "@yearEnd"]),
    *_grid(["tags"], OPS, ['""', '"a"', '"b"', '"[\\"b\\"]"', "5", "null", '"%a%"']),
    *_grid(["tags:each"], OPS, ['""', '"a"', '"d"', '"z"', "null"]),
    *_grid(["cat:each", "author:each", "editors:each"], ["=", "!=", "?=", "?!=", "~", "<"], ['""', '"x"', f'"{A[1]}"', "null"]),
    *_grid(["tags:length", "editors:length", "cat:length"], ["=", "!=", ">", "<", "?=", "?>"], ["0", "1", "2", '"2"', "null", '""']),
    *_grid(["j"], ["=", "!=", ">", "<", "~"], ['""', "5", '"5"', "true", "false", "null", '"text"', "0", '"str"']),
    *_grid(["j.x", "j.s", "j.arr", "j.arr.0", "j.arr.2.k", "j.nested.a.b", "j.missing", "j.0"], ["=", "!=", ">", "~"],
           ["1", '"1"', "1.5", '""', "null", "true", '"v"', '"str"']),
    # literals on the left, fields on both sides
    '"a" = "a"', '"a" != "a"', "1 = 1", "1 = true", '"1" = 1', '1 < "a"', '"" = null', "null = null", "null != null",
    "title = title", "title != title", "n = n", "title = n", "n > title", "title ~ title", "j = j", "j.x = n",
    "n = b", "b = true && n > 0", "d = editors.age", "d = author.age", "editors.age = d", "author.age = author.name", 'title = cat', '"" = title', '"Hello" ~ title', "5 = n", "n ?= 5",
    # any-of / all-of through relations
    *_grid(["author.name", "editors.name", "editors.age", "editors.active", "author.team.name", "editors.team.name"],
           ["=", "!=", "?=", "?!=", ">", "?>", "~", "?~"], ['"Ann"', '"Bob"', '""', "30", "null", "true", '"a"']),
    "author = \"author00000000001\"", f"author.id = \"{A[1]}\"", f"editors.id ?= \"{A[1]}\"", f"editors.id = \"{A[2]}\"",
    f"editors ~ \"{A[1]}\"", f"editors ?= \"{A[1]}\"", f"editors:each = \"{A[1]}\"", f"editors:each ?= \"{A[1]}\"",
    "author.name = editors.name", "author.name ?= editors.name", "editors.name = author.name", "editors.name ?= editors.name",
    "editors.name = editors.name", "editors.age > author.age", "editors.age ?> author.age", "tags:each = editors.skills:each",
    "author.skills:each ?= \"py\"", "author.skills:each = \"py\"", "editors.skills:each ?= \"rs\"", "editors.skills:length > 1",
    "author.name:lower = \"ann\"", "editors.name:lower ?= \"cid\"", "title:lower = \"hello\"", "title:lower ~ \"world\"",
    "author.team.rank > 1", "author.team.rank ?> 1", "editors.team.rank = 1", "editors.team.rank ?= 2",
    "author.name = \"Ann\" && author.age > 20", "editors.name ?= \"Ann\" && editors.age ?> 26", "author.name = \"Ann\" || n > 10",
    "owner.name = \"Ann\"", "owner.email = \"ann@example.com\"", "owner.email = \"bob@example.com\"",
    # back-relations
    "comments_via_post.msg = \"first\"", "comments_via_post.msg ?= \"first\"", "comments_via_post.likes > 0",
    "comments_via_post.likes ?> 5", "comments_via_post.msg != \"\"", "comments_via_post.by.name ?= \"Ann\"",
    "comments_via_post.id != \"\"", "comments_via_post.id = null", "comments_via_post:length > 0",
    "bundles_via_items.name = \"one\"", "bundles_via_items.name ?= \"two\"", "bundles_via_items.name != \"one\"",
    "bundles_via_items.id ?!= \"\"", "author.profiles_via_author.bio = \"ann bio\"", "author.profiles_via_author.bio ?= \"\"",
    "author.comments_via_by.msg ?= \"third\"", "nope_via_post.msg = 1", "comments_via_nope.msg = 1",
    # @collection joins
    "@collection.teams.name = \"Red\"", "@collection.teams.name ?= \"Red\"", "@collection.teams.rank ?> n",
    "@collection.authors.name ?= author.name", "@collection.authors:a.age ?> 35 && @collection.authors:b.name ?= \"Bob\"",
    "@collection.comments.post ?= id && @collection.comments.likes ?> 5",
    # LIKE details
    'title ~ "hello"', 'title ~ "HELLO"', 'title ~ "%world"', 'title ~ "Hello%"', 'title ~ "100%"', 'title ~ "100\\%"',
    'title ~ "_"', 'title ~ "\\_"', 'title ~ "\\\\ok"', 'title ~ "ü"', 'title ~ "Ü"', 'title ~ "äb"', 'title ~ "ab"',
    'title !~ "o"', 'title ~ \'"quoted"\'', "title ~ 'it\\'s'", 'title ~ ""', 'title !~ ""', "title ~ null", "title ~ 5",
    "title ~ 0", "n ~ 5", "n ~ \"5\"", "n ~ \"0.5\"", "n ~ \"1000000\"", "n ~ \"e\"", "n ~ 1", "n ~ \"2.25\"", "b ~ 1",
    "title ~ cat", "cat ~ title", "title ~ true", "j ~ \"x\"", "j.s ~ \"st\"",
    # grouping, precedence, comments, whitespace
    "(title = \"hello\" || n = 5) && b = true", "title = \"hello\" || n = 5 && b = true", "((n > 0))", "(n > 0) && (n < 10)",
    "n > 0 // trailing comment", "n > 0 &&\n// comment line\nn < 10", "n>0&&n<10", "\tn > 0\n", "(n > 0 || (b = true && (n < 0)))",
    "n > 0 && (title = \"a\" || title = \"hello\") || cat = \"z\"",
    # macros
    "d < @now", "d > @now", "d > @yesterday", "@now > d", "@year > 2000", "@month > 0", "@weekday >= 0", "@hour < 24",
    "d < @monthStart", "d > @yearStart", "d < @tomorrow", "d < @todayEnd", "d < @monthEnd",
    # functions
    "geoDistance(n, n, 0, 0) < 1000", "geoDistance(0, 0, 0, 0) = 0", "geoDistance(j.x, 0, 0, 0) > 100",
    # strftime (on PostgreSQL it is emulated)
    *[f"strftime('{fmt}', d{mods}) {op} '{value}'" for fmt, mods, op, value in [
        ("%Y", "", "=", "2024"), ("%Y-%m", "", ">", "2023-07"), ("%m", "", "=", "06"), ("%d %H:%M:%S", "", "=", "02 10:00:00"),
        ("%f", "", "=", "59.999"), ("%j", "", "<", "100"), ("%w", "", "=", "2"), ("%W", "", "=", "26"), ("%s", "", ">", "1700000000"),
        ("%Y", ", 'start of year'", "=", "2024"), ("%Y-%m-%d", ", '+1 month'", "=", "2024-02-02"), ("%Y-%m-%d", ", '-1 day'", "=", "2024-01-01"),
        ("%Y-%m-%d", ", 'start of month', '+1 month', '-1 day'", "=", "2023-06-30"), ("%H", ", '+14 hours'", "=", "00"),
        ("%Y-%m-%d", ", 'weekday 0'", "=", "2024-01-07"), ("%e|%k|%l|%I|%p|%P", "", "=", " 2|10|10|10|AM|am"),
        ("%u %U %G %g %V", "", "=", "2 00 2024 24 01"), ("%F %T", "", "=", "2024-01-02 10:00:00"), ("%R", "", "=", "10:00"),
        ("%Y", ", 'nonsense'", "=", ""), ("%Q", "", "=", ""), ("", "", "=", ""), ("%%%Y", "", "~", "%2"),
    ]],
    "strftime('%Y', created) = strftime('%Y', updated)", "strftime('%Y', d) = ''", "strftime('%Y', d) != ''",
    "strftime('%Y', j) != ''", "strftime('%Y', n) = '-4713'", "strftime('%Y') > '2000'", "strftime('%Y', '2024-05-05') = '2024'",
    "strftime('%Y', 2460000.5) = '2023'", "strftime('%Y-%m-%d', 1700000000, 'unixepoch') = '2023-11-14'",
    "strftime('%Y', editors.name) = ''", "strftime('%m', d) ?= '01'", "strftime(n) = 1", "strftime('%Y', d) ~ '20'",
    # id and system fields
    f"id = \"{P[1]}\"", f"id != \"{P[1]}\"", f"id > \"{P[5]}\"", "created != \"\"", "updated > \"2000\"", "id ~ \"post\"",
    # modifiers in odd places
    "title:isset = true", "title:changed = true", "n:length > 0", "title:each = \"hello\"", "j:lower ~ \"str\"",
    # hidden fields (superuser may filter them)
    'secret = "s1"', 'secret != ""',
    # errors the reference rejects
    "nope = 1", "title = ", "", "   ", "// only a comment", "title = \"a", "title == 1", "title = 1 &&", "(title = 1",
    "title = 1)", "title.x = 1", "tags.x = 1", "title:foo = 1", "foo(1) = 1", "n = 1.2.3", "n = -", "n = .5", "#x = 1",
    "@ = 1", "title = @nope", "author.nope = 1", "author.name.x = 1", "j..x = 1", "()", "title = (n = 1)", "title = 1 n = 2",
    "a.b.c.d.e.f.g.h = 1", "n = 5\x00 x", "n = 5\r", "n = 5 \x0b", "title = (n = 5)", "(" * 90 + "n = 5" + ")" * 90, "editors:each.name = 1", "geoDistance(1,2,3) = 1", "strftime(1) = 1",
    "@request.nope = 1", "@request.auth.nope = 1", "@collection.nope.x = 1", "@collection.teams = 1",
]

AUTHORS: list[str] = [
    "skills ?= \"go\"", "skills:each = \"py\"", "skills:each ?= \"py\"", "skills:length = 2", "skills = \"[]\"", "skills = \"\"",
    "team.name = \"Red\"", "team = \"\"", "team.id = \"\"", "posts_via_author.n > 4", "posts_via_author.n ?> 4",
    "posts_via_editors.title ?= \"hello\"", "posts_via_editors.title = \"hello\"", "posts_via_editors.tags:each ?= \"d\"",
    "posts_via_editors.b = true", "profiles_via_author.bio = \"\"", "profiles_via_author.bio ?= \"ann bio\"",
    "age > 26", "age = 40.5", "age ~ \".5\"", "active = true", "active = 1", "active = \"true\"", "active ~ 1",
    "mail = \"\"", "mail ~ \"@\"", "name ?~ \"a\"", "name:lower = \"bob\"",
]

TEAMS: list[str] = [
    "authors_via_team.name ?= \"Ann\"", "authors_via_team.name = \"Ann\"", "authors_via_team.age > 20",
    "authors_via_team.posts_via_author.n ?> 50", "authors_via_team.skills:each ?= \"js\"", "rank >= 1", "name = \"\"",
]

# Quoted literals with escapes: `\\"`, `\\'`, `\\\\`, `\\n`, `\\t`, `\\r` become the character; any other
# escape keeps its backslash. Written raw: each is exactly the filter text.
ESCAPED_LITERALS = [
    r'"It\'s \"quoted\""', r"'It\'s \"quoted\"'", r"'It\'s \'quoted\''", r'"It\'s"', r"'\"quoted\"'", r'"back\\slash"',
    r'"back\slash"', r'"\t"', r'"tab\there"', r'"\n"', r'"new\nline"', r'"\r"', r'"cr\rx"', r'"a\sb"', r'"a\\sb"',
    r'"caf\u00e9"', r'"\u00e9"', r'"caf\\u00e9"', r'"back\\"', r'"x\\\\y"', r'"x\\y"', r'"\\"', r'"\x41"', r'"\101"',
    r'"\b"', r'"bs\bx"', r'"lit\t"', r'"lit\\t"', r'"lit\\n"', r'"\%"', r'"\\%"', r'"a\_b"', r'"a\\_b"', r'"a\\\_b"',
    r'"a\%b"', r'"q\""', r"'q\''", r'"\'"', r"'\\'", r'"dq\\\""', r'"\/"', r'"\e"', r'"\\n"', r'"\\t"', r"'\t'",
]
ESCAPE_OPS = ["=", "!=", "~", "!~", "?=", "?!=", "?~", "?!~"]
NOTE_FILTERS: list[str] = [
    *_grid(["body"], ESCAPE_OPS, ESCAPED_LITERALS),
    *_grid(["tags"], ["?=", "?~", "?!="], ESCAPED_LITERALS[:12]),
    r'(body = "tab\there" || body ~ "\n") && body != "\\"', r'body:lower = "it\'s \"quoted\""', r'body:lower ~ "\t"',
    r'tags:each ~ "\\"', r'tags:length = 2 && body = "lit\\t"', r'"a\sb" = body', r'"\t" ~ body',
    r'body = "A\"', r"body = 'x\\\'", r'body = "\"', r'body = "\\\"', r"body = '\\' || body = '\''",
    r'body = "multi' + "\n" + r'line"', r'body ~ "\t" // a comment with \" in it',
    r'strftime("\t%Y", "2024-01-02 10:00:00.000Z") = "\t2024" && body = "A"',
    r'strftime("%Y\\%m\s", "2024-01-02 10:00:00.000Z") = "2024\\01\s" && body = "A"',
    r"strftime('%Y\'', '2024-01-02 10:00:00.000Z') = '2024\'' && body = 'A'",
]

CASES: list[tuple[str, str]] = (
    [("posts", f) for f in POSTS] + [("authors", f) for f in AUTHORS] + [("teams", f) for f in TEAMS]
    + [("notes", f) for f in NOTE_FILTERS]
)

SORTS: list[tuple[str, str]] = [
    ("posts", s) for s in [
        "title", "-title", "n", "-n", "b,-n", "-b,title", "d", "-d", "tags", "cat,title", "-cat,-title", "j", "-j", "j.x", "-j.x",
        "j.s,n", "author", "author.name,n", "-author.name,-n", "author.team.rank,-n", "author.age,title", "title:lower",
        "tags:length,n", "-editors:length,n", "created", "@rowid", "-@rowid", "site,-n", "+n", " n , -title ",
        "nope", "title,", ",", "author.nope", "@request.query.x", "null", "true", "@now", "title:foo", "j..x",
        "a,b,c,d,e,f,g,h,i", "n,n,n,n,n,n,n,n", "n,n,n,n,n,n,n,n,n", "comments_via_post.likes,n", "@collection.teams.rank,n",
    ]
] + [("authors", s) for s in ["name", "-age", "team.name,name", "skills,name", "-active,name"]]

EXPANDS: list[dict[str, str]] = [
    {"expand": e} for e in [
        "author", "editors", "author.team", "editors.team", "comments_via_post", "comments_via_post.by", "author,editors.team",
        "bundles_via_items", "author.profiles_via_author", "owner", "nope", "author.nope", " author . team ", ",author,,",
        "author.comments_via_by.post.author.team", "author.team.authors_via_team.team.authors_via_team.team.authors_via_team",
        "comments_via_post.post.comments_via_post.post", "author,author.team", "editors,editors.team,editors.profiles_via_author",
        # repeats, merged prefixes, a failing continuation, steps past the sixth, and the cost cases
        "author,author,author", "author.team,author", "author,author.nope", "editors.nope,editors.team",
        "author.team.authors_via_team.team.authors_via_team.team.nope.x",
        "comments_via_post.post.comments_via_post.post.comments_via_post.post.nope,author..team",
        ",".join(["author"] * 2000), ",".join(f"author.x{i}" for i in range(500)) + ",editors",
        # the legacy back-relation syntax, by collection name or id
        "comments(post)", "comments(post).by", "bundles(items)", "author.profiles(author)", "comments(post),comments_via_post",
        f"{collection_id('base', 'comments')}(post).by.team", f"{collection_id('base', 'comments')}_via_post", "comments(nope)",
        "nope(post)", "comments(post", "comments(post)x", "comments((post))", "comments(post).post.comments(post)", "comments()",
    ]
] + [
    {"fields": f} for f in [
        "id,title", "*", "id,tags", " id , n ", "title:excerpt(5)", "title:excerpt(5,true)", "title:excerpt(100, 1)",
        "id,j.x", "id,j", "nope", "title:excerpt(0)", "title:foo", "title:excerpt(", "id,title:excerpt(3,true),n",
    ]
] + [
    {"expand": "author.team,editors", "fields": f} for f in ["id,expand.author.name", "*,expand.author.team.name", "expand", "expand.editors.id,id"]
] + [{"expand": "comments(post)", "fields": f} for f in ["id,expand.comments(post).msg", "expand"]]
