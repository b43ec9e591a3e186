"""Personal data that looks real: Chinese and Singaporean names, mobile numbers, e-mail and addresses."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from newretail.sim.text import Column, idx, pc

_SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文晨宇欣怡佳琪浩然子涵梓轩雨萱思远嘉怡博文俊杰婷婷晓东晓燕雪梅海燕志强丹阳"
)
_SG_SURNAMES = [
    "Tan",
    "Lim",
    "Lee",
    "Ng",
    "Ong",
    "Wong",
    "Goh",
    "Chua",
    "Chan",
    "Koh",
    "Teo",
    "Ang",
    "Yeo",
    "Tay",
    "Ho",
    "Low",
    "Toh",
    "Sim",
    "Chong",
    "Chia",
]
_SG_GIVEN = [
    "Wei Ming",
    "Jia Hui",
    "Xin Yi",
    "Jun Jie",
    "Hui Min",
    "Zhi Hao",
    "Shu Ting",
    "Kai Wen",
    "Rachel",
    "Daniel",
    "Sarah",
    "Ryan",
    "Michelle",
    "Marcus",
    "Grace",
    "Nicholas",
    "Priya",
    "Arjun",
    "Nurul",
    "Farhan",
]
_CN_PREFIXES = np.array(
    [
        130,
        131,
        132,
        133,
        135,
        136,
        137,
        138,
        139,
        150,
        151,
        152,
        155,
        156,
        157,
        158,
        159,
        166,
        176,
        177,
        180,
        181,
        182,
        185,
        186,
        187,
        188,
        189,
        191,
        198,
        199,
    ]
)
_MAIL = ["qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "foxmail.com", "hotmail.com"]
_STREETS = [
    "人民路",
    "中山路",
    "解放路",
    "建设路",
    "南京路",
    "长安街",
    "天府大道",
    "滨江路",
    "科技园路",
    "和平路",
]


def _pick(words: list[str], index: np.ndarray) -> Column:
    return pa.array(words).take(idx(index))


def person_names(rng: np.random.Generator, sg: np.ndarray) -> Column:
    """Chinese names (surname + one or two given characters); in Singapore half are English-style."""
    n = len(sg)
    surname = _pick(_SURNAMES, rng.integers(0, len(_SURNAMES), n))
    first = _pick(_GIVEN, rng.integers(0, len(_GIVEN), n))
    second = _pick(_GIVEN, rng.integers(0, len(_GIVEN), n))
    two = pa.array(rng.random(n) < 0.6)
    chinese = pc.binary_join_element_wise(surname, first, pc.if_else(two, second, ""), "")
    english = pc.binary_join_element_wise(
        _pick(_SG_GIVEN, rng.integers(0, len(_SG_GIVEN), n)),
        _pick(_SG_SURNAMES, rng.integers(0, len(_SG_SURNAMES), n)),
        " ",
    )
    return pc.if_else(pa.array(sg & (rng.random(n) < 0.5)), english, chinese)


def with_typos(rng: np.random.Generator, names: Column, share: float) -> Column:
    """Names with a wrong last character in ``share`` of them, as a hurried clerk would type."""
    n = len(names)
    wrong = _pick(_GIVEN, rng.integers(0, len(_GIVEN), n))
    typo = pc.binary_join_element_wise(pc.utf8_slice_codeunits(names, 0, -1), wrong, "")
    return pc.if_else(pa.array(rng.random(n) < share), typo, names)


def courtesy_names(names: Column, gender: np.ndarray) -> Column:
    """What delivery platforms show: the surname and 先生/女士 (王先生)."""
    title = pc.if_else(pa.array(gender == 1), "先生", "女士")
    return pc.binary_join_element_wise(pc.utf8_slice_codeunits(names, 0, 1), title, "")


def _affine(values: np.ndarray, modulus: int, salt: int) -> np.ndarray:
    # Multiplication by a unit modulo 10^k is a bijection, so distinct inputs keep distinct numbers.
    return (values.astype(np.int64) * 7_391_833 + salt) % modulus


def phones(slots: np.ndarray, sg: np.ndarray) -> np.ndarray:
    """Mobile numbers, one per slot (equal slots, equal numbers): CN 11 digits from 13x-19x,
    SG 8 digits from 8 or 9."""
    pick = (_affine(slots, 10**9, 97) // 1000).astype(np.int64)
    cn = _CN_PREFIXES[pick % len(_CN_PREFIXES)] * 10**8 + _affine(slots, 10**8, 12_345_677)
    singapore = (8 + pick % 2) * 10**7 + _affine(slots, 10**7, 1_234_567)
    numbers: np.ndarray = np.where(sg, singapore, cn)
    return numbers


def masked(phone_numbers: np.ndarray) -> Column:
    """138****1234 for CN, 91****67 for SG, as delivery platforms show them."""
    text = pa.array(phone_numbers).cast(pa.string())
    long = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(text, 0, 3), pc.utf8_slice_codeunits(text, 7, 11), "****"
    )
    short = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(text, 0, 2), pc.utf8_slice_codeunits(text, 6, 8), "****"
    )
    return pc.if_else(pa.array(phone_numbers >= 10**10), long, short)


def emails(rng: np.random.Generator, persons: np.ndarray) -> Column:
    local = pc.binary_join_element_wise(
        pa.array(
            rng.choice(["coffee", "momo", "xiao", "lucky", "sunny", "leo", "amy"], len(persons))
        ),
        pa.array(persons + 1000).cast(pa.string()),
        "",
    )
    return pc.binary_join_element_wise(
        local, _pick(_MAIL, rng.integers(0, len(_MAIL), len(persons))), "@"
    )


def addresses(
    rng: np.random.Generator, city_zh: Column, persons: np.ndarray, other_share: float
) -> Column:
    """A home address per person, the same in every source; ``other_share`` of records give
    another one (the office), as people order to work too."""
    home = _affine(persons, 10**9, 4_242)
    other = rng.integers(0, 10**9, len(persons))
    key = np.where(rng.random(len(persons)) < other_share, other, home)
    street = _pick(_STREETS, key % len(_STREETS))
    number = pa.array(1 + (key // len(_STREETS)) % 998).cast(pa.string())
    return pc.binary_join_element_wise(city_zh, street, number, "号", "")


def nullable_email(values: Column, present: np.ndarray) -> Column:
    return pc.if_else(pa.array(present), values, pa.nulls(len(values), pa.string()))
