"""The text form's grammar (Lark, LALR with the basic lexer so keywords are reserved words).

Keywords are case-insensitive; tag ids are lexed case-insensitively too so that ``Orders_90d`` is
reported as "tag ids are lowercase" rather than as a stray character.
"""

from __future__ import annotations

from functools import cache

from lark import Lark

GRAMMAR = r"""
?start: or_expr

?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr                                    -> not_
         | atom
?atom: "(" or_expr ")"                                      -> group
     | condition

?condition: NAME                                            -> flag
          | NAME COMP_OP literal                            -> compare
          | NAME _IN "(" literal ("," literal)* ")"         -> in_list
          | NAME _NOT _IN "(" literal ("," literal)* ")"    -> not_in_list
          | NAME _BETWEEN literal _AND literal              -> between
          | NAME _IS _NULL                                  -> is_null
          | NAME _IS _NOT _NULL                             -> is_not_null
          | NAME _IN _STORES "(" or_expr ")"                -> in_stores
          | _BOUGHT "(" bought_arg "," bought_arg ")"       -> bought

bought_arg: NAME COMP_OP literal

?literal: STRING                                            -> string
        | INT                                               -> integer
        | TRUE                                              -> true
        | FALSE                                             -> false
        | _DATE STRING                                      -> date
        | _DAYS_AGO "(" INT ")"                             -> days_ago

_OR: "or"i
_AND: "and"i
_NOT: "not"i
_IN: "in"i
_IS: "is"i
_NULL: "null"i
_BETWEEN: "between"i
_STORES: "stores"i
_BOUGHT: "bought"i
_DATE: "date"i
_DAYS_AGO: "days_ago"i
TRUE: "true"i
FALSE: "false"i

NAME: /[a-z_][a-z0-9_]*/i
STRING: /'(?:[^']|'')*'/
INT: /-?[0-9]+/
COMP_OP: /<=|>=|!=|=|<|>/

%ignore /[ \t\r\n]+/
"""

# How the parser's expected terminals read in a syntax error's hints.
TERMINAL_NAMES = {
    "_OR": "OR",
    "_AND": "AND",
    "_NOT": "NOT",
    "_IN": "IN",
    "_IS": "IS",
    "_NULL": "NULL",
    "_BETWEEN": "BETWEEN",
    "_STORES": "STORES",
    "_BOUGHT": "BOUGHT",
    "_DATE": "DATE",
    "_DAYS_AGO": "DAYS_AGO",
    "TRUE": "true",
    "FALSE": "false",
    "NAME": "a tag id",
    "STRING": "a 'string'",
    "INT": "an integer",
    "COMP_OP": "a comparison (= != < <= > >=)",
    "LPAR": "(",
    "RPAR": ")",
    "COMMA": ",",
    "$END": "the end of the expression",
}


@cache
def parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", lexer="basic", propagate_positions=True)
