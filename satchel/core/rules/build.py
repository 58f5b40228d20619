"""One comparison -> one SQL condition, following the reference's buildResolversExpr.

`=`/`!=` avoid NULL surprises the way PocketBase does (an empty side matches NULL too),
`~` wraps its right side in `%`, and an operand with a multi-match subquery adds
"and no item fails" (`NOT EXISTS (... WHERE NOT cond)`) unless the operator is an any-of
(`?=`, `?~`, ...) one.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ...strconv import go_quote
from .errors import FilterError
from .operands import DISABLED, Operand, has_empty_param, is_empty_ident, is_known_non_empty, wrap_like_params
from .values import Value, literal

Expr = Any

ORDER_OPS = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}


class Builder:
    """Builds conditions with one dialect; `names` hands out unique subquery aliases."""

    def __init__(self, dialect: Any, names: Any) -> None:
        self.dialect = dialect
        self.names = names

    def comparison(self, left: Operand, op: str, right: Operand) -> Expr:
        base = op.lstrip("?")
        any_of = op.startswith("?")
        if base == "=":
            expr = self.equal(True, left, right)
        elif base == "!=":
            expr = self.equal(False, left, right)
        elif base in ("~", "!~"):
            expr = self.like(base == "~", left, right)
        elif base in ORDER_OPS:
            expr = self.dialect.compare(ORDER_OPS[base], left.value, right.value)
        else:
            raise FilterError(f"unknown expression operator {go_quote(op)}")
        if not any_of:
            expr = self.multi_match(expr, left, op, right)
        if left.after is not None:
            expr = left.after(expr)
        if right.after is not None:
            expr = right.after(expr)
        return expr

    def like(self, positive: bool, left: Operand, right: Operand) -> Expr:
        op = "LIKE" if positive else "NOT LIKE"
        if not right.params:
            return self.dialect.compare(op, left.value, self.dialect.like_wrap(right.value))
        if right.remake is None:
            raise FilterError("the right operand of ~ can't be matched as text")
        wrapped = right.with_params(wrap_like_params(right.params))
        return self.dialect.compare(op, left.value, wrapped.value)

    def equal(self, equal: bool, left: Operand, right: Operand) -> Expr:
        """resolveEqualExpr: `a = ''` also matches NULL, `a != ''` excludes it."""
        d = self.dialect
        eq, null_eq = ("=", "IS") if equal else ("IS NOT", "IS NOT")
        if left.null_fallback == DISABLED or right.null_fallback == DISABLED:
            return d.compare(null_eq, left.value, right.value)
        left_empty = is_empty_ident(left) or (left.null_fallback == 0 and len(left.params) == 1 and has_empty_param(left))
        right_empty = is_empty_ident(right) or (right.null_fallback == 0 and len(right.params) == 1 and has_empty_param(right))
        empty = literal("")
        if left_empty and right_empty:
            return d.constant(equal)
        if is_known_non_empty(left) or is_known_non_empty(right):
            return d.compare(eq, empty if left_empty else left.value, empty if right_empty else right.value)
        if left_empty:
            return self._empty_or_null(equal, right.value, mirrored=True)
        if right_empty:
            return self._empty_or_null(equal, left.value, mirrored=False)
        return d.compare(eq, d.coalesce_empty(left.value), d.coalesce_empty(right.value))

    def _empty_or_null(self, equal: bool, value: Value, mirrored: bool) -> Expr:
        d = self.dialect
        empty = literal("")
        pair = (empty, value) if mirrored else (value, empty)
        if equal:
            return sa.or_(d.compare("=", *pair), d.is_null(value))
        return sa.and_(d.compare("IS NOT", *pair), d.is_not_null(value))

    # -- multi-match ---------------------------------------------------------------------------

    def multi_match(self, expr: Expr, left: Operand, op: str, right: Operand) -> Expr:
        if left.multi is not None and right.multi is not None:
            return sa.and_(expr, self._many_vs_many(left, op, right))
        if left.multi is not None:
            return sa.and_(expr, self._many_vs_one(left, op, right, inverse=False))
        if right.multi is not None:
            return sa.and_(expr, self._many_vs_one(right, op, left, inverse=True))
        return expr

    def _many_vs_one(self, many: Operand, op: str, other: Operand, inverse: bool) -> Expr:
        """No item of the many side may fail the comparison with the other operand."""
        assert many.multi is not None
        sub, item = many.multi.subquery(self.dialect, self.names("__sm"))
        one = Operand(item, null_fallback=many.null_fallback, after=sa.not_)
        plain = Operand(other.value, other.params, other.ident, remake=other.remake)
        cond = self.comparison(plain, op, one) if inverse else self.comparison(one, op, plain)
        return ~sa.exists(sa.select(sa.literal_column("1")).select_from(sub).where(cond))

    def _many_vs_many(self, left: Operand, op: str, right: Operand) -> Expr:
        assert left.multi is not None and right.multi is not None
        lsub, litem = left.multi.subquery(self.dialect, self.names("__ml"))
        rsub, ritem = right.multi.subquery(self.dialect, self.names("__mr"))
        cond = self.comparison(
            Operand(litem, null_fallback=left.null_fallback),
            op,
            Operand(ritem, null_fallback=right.null_fallback, after=sa.not_),
        )
        frm = lsub.outerjoin(rsub, self.dialect.true_join())
        return ~sa.exists(sa.select(sa.literal_column("1")).select_from(frm).where(cond))
