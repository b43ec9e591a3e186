"""The menu, its prices per currency, the materials it is made of, suppliers and the BOM."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

CATEGORIES = ("coffee", "tea", "food", "retail")


@dataclass(frozen=True)
class Supplier:
    supplier_id: str
    name: str
    country: str
    lead_time_days: int
    min_order_packs: int


SUPPLIERS: tuple[Supplier, ...] = (
    Supplier("V01", "云南咖啡豆烘焙厂 Yunnan Roasters", "CN", 5, 20),
    Supplier("V02", "光明乳业 Bright Dairy", "CN", 2, 50),
    Supplier("V03", "植物基饮品公司 PlantBase Drinks", "CN", 4, 40),
    Supplier("V04", "风味糖浆 Flavour Syrups Co", "CN", 7, 10),
    Supplier("V05", "茶叶合作社 Tea Growers Co-op", "CN", 6, 10),
    Supplier("V06", "包材供应商 PackRight", "CN", 7, 20),
    Supplier("V07", "冷链冰品 ColdChain Ice", "CN", 2, 20),
    Supplier("V08", "中央厨房烘焙 Central Bakery", "CN", 1, 10),
)


@dataclass(frozen=True)
class Material:
    material_id: str
    name: str
    unit: str
    pack_size: int
    shelf_life_days: int
    storage: str
    supplier_id: str
    is_core: bool
    pack_cost_minor: int


MATERIALS: tuple[Material, ...] = (
    Material("M001", "咖啡豆 Espresso beans", "g", 1000, 180, "ambient", "V01", True, 9000),
    Material("M002", "牛奶 Milk", "ml", 1000, 8, "chilled", "V02", True, 1200),
    Material("M003", "燕麦奶 Oat milk", "ml", 1000, 10, "chilled", "V03", True, 2200),
    Material("M004", "香草糖浆 Vanilla syrup", "ml", 750, 120, "ambient", "V04", False, 4500),
    Material("M005", "焦糖糖浆 Caramel syrup", "ml", 750, 120, "ambient", "V04", False, 4500),
    Material("M006", "抹茶粉 Matcha powder", "g", 500, 180, "ambient", "V05", False, 12000),
    Material("M007", "红茶叶 Black tea", "g", 500, 180, "ambient", "V05", False, 6000),
    Material("M008", "茉莉绿茶 Jasmine green tea", "g", 500, 180, "ambient", "V05", False, 6500),
    Material("M009", "厚椰乳 Coconut milk", "ml", 1000, 10, "chilled", "V03", False, 2500),
    Material("M010", "冷萃液 Cold brew concentrate", "ml", 1000, 14, "chilled", "V01", True, 3000),
    Material("M011", "热饮杯 Hot cup", "piece", 1000, 365, "ambient", "V06", True, 30000),
    Material("M012", "冷饮杯 Cold cup", "piece", 1000, 365, "ambient", "V06", True, 32000),
    Material("M013", "杯盖 Lid", "piece", 1000, 365, "ambient", "V06", True, 12000),
    Material("M014", "吸管 Straw", "piece", 2000, 365, "ambient", "V06", False, 8000),
    Material("M015", "冰块 Ice", "g", 5000, 30, "frozen", "V07", False, 1500),
    Material("M016", "可颂 Croissant", "piece", 24, 3, "chilled", "V08", False, 9600),
    Material("M017", "贝果 Bagel", "piece", 24, 3, "chilled", "V08", False, 9600),
    Material("M018", "三明治 Sandwich", "piece", 12, 2, "chilled", "V08", False, 12000),
    Material("M019", "蛋糕 Cake slice", "piece", 12, 3, "chilled", "V08", False, 14400),
    Material(
        "M020",
        "零售咖啡豆袋 Retail beans bag 250g",
        "piece",
        20,
        180,
        "ambient",
        "V01",
        False,
        60000,
    ),
    Material("M021", "挂耳咖啡盒 Drip bag box", "piece", 20, 270, "ambient", "V01", False, 40000),
    Material("M022", "随行杯 Tumbler", "piece", 12, 365, "ambient", "V06", False, 36000),
    Material("M023", "奶油 Cream", "ml", 1000, 10, "chilled", "V02", False, 3500),
)

_HOT = "M011:1,M013:1"
_COLD = "M012:1,M013:1,M014:1,M015:150"


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    name_en: str
    category: str
    subcategory: str
    price_cny: int
    price_sgd: int
    popularity: float
    launch: float | None  # share of the horizon at which it launches; None: on the menu already
    retire: float | None  # share of the horizon after which it leaves the menu
    bom: str  # "material:base units,..." per unit sold


# id|name|name_en|category|subcategory|CNY|SGD|popularity|launch|retire|bom
# launch/retire: share of the horizon (empty: on the menu before the start / never retired).
_MENU = """
P001|美式咖啡|Americano|coffee|americano|1500|550|8|||M001:18,HOT
P002|拿铁|Latte|coffee|latte|2000|650|10|||M001:18,M002:200,HOT
P003|燕麦拿铁|Oat Latte|coffee|latte|2300|750|5|||M001:18,M003:200,HOT
P004|卡布奇诺|Cappuccino|coffee|cappuccino|2000|650|4|||M001:18,M002:150,HOT
P005|澳白|Flat White|coffee|flat_white|2300|700|5|||M001:20,M002:150,HOT
P006|香草拿铁|Vanilla Latte|coffee|latte|2300|750|3|||M001:18,M002:200,M004:20,HOT
P007|焦糖玛奇朵|Caramel Macchiato|coffee|macchiato|2500|780|3|||M001:18,M002:200,M005:20,HOT
P008|冰美式|Iced Americano|coffee|americano|1600|600|7|||M001:18,COLD
P009|冷萃咖啡|Cold Brew|coffee|cold_brew|2200|700|3|||M010:250,COLD
P010|生椰拿铁|Coconut Latte|coffee|latte|2500|780|6|||M001:18,M009:200,COLD
P011|摩卡|Mocha|coffee|mocha|2400|750|2|||M001:18,M002:180,M023:20,HOT
P012|浓缩咖啡|Espresso|coffee|espresso|1200|450|1|||M001:18,M011:1
P013|脏脏拿铁|Dirty Latte|coffee|latte|2400|760|4|0.12||M001:20,M002:120,HOT
P014|桂花拿铁|Osmanthus Latte|coffee|latte|2600|800|5|0.55|0.85|M001:18,M002:200,M004:15,HOT
P015|冰燕麦拿铁|Iced Oat Latte|coffee|latte|2400|760|4|0.3||M001:18,M003:200,COLD
P016|海盐焦糖冷萃|Sea Salt Caramel Cold Brew|coffee|cold_brew|2600|820|3|0.4|0.75|M010:220,M005:15,M023:20,COLD
P017|橙C美式|Orange Americano|coffee|americano|2200|700|4|0.7||M001:18,COLD
P018|榛果拿铁|Hazelnut Latte|coffee|latte|2400|760|2||0.35|M001:18,M002:200,M004:20,HOT
P019|抹茶拿铁|Matcha Latte|tea|matcha|2200|700|4|||M006:8,M002:220,HOT
P020|伯爵红茶|Earl Grey Tea|tea|black_tea|1600|550|2|||M007:5,HOT
P021|茉莉绿茶|Jasmine Green Tea|tea|green_tea|1500|500|2|||M008:5,HOT
P022|红茶拿铁|Black Tea Latte|tea|milk_tea|2000|650|3|||M007:6,M002:200,HOT
P023|冰摇柠檬红茶|Iced Shaken Lemon Tea|tea|black_tea|1800|600|3|0.25||M007:6,COLD
P024|冰摇茉莉|Iced Shaken Jasmine|tea|green_tea|1800|600|2|0.45|0.9|M008:6,COLD
P025|抹茶椰乳|Matcha Coconut|tea|matcha|2400|760|2|0.65||M006:8,M009:200,COLD
P026|黄油可颂|Butter Croissant|food|pastry|1500|450|5|||M016:1,M023:5
P027|原味贝果|Plain Bagel|food|bagel|1600|480|3|||M017:1
P028|火腿芝士三明治|Ham & Cheese Sandwich|food|sandwich|2600|780|3|||M018:1
P029|纽约芝士蛋糕|NY Cheesecake|food|cake|2800|800|2|||M019:1
P030|巧克力可颂|Chocolate Croissant|food|pastry|1800|520|3|0.2||M016:1,M023:10
P031|鸡肉牛油果三明治|Chicken Avocado Sandwich|food|sandwich|3200|880|2||0.5|M018:1
P032|蓝莓贝果|Blueberry Bagel|food|bagel|1800|520|2|0.6||M017:1
P033|提拉米苏|Tiramisu|food|cake|3200|900|2|0.8||M019:1,M023:20
P034|云南咖啡豆250g|Yunnan Beans 250g|retail|beans|8800|2800|3|||M020:1
P035|挂耳咖啡10片装|Drip Bags x10|retail|drip_bag|5900|1800|4|||M021:1
P036|品牌随行杯|Brand Tumbler|retail|merchandise|12800|3900|1|||M022:1
P037|限定圣诞随行杯|Christmas Tumbler|retail|merchandise|14800|4500|1|0.9||M022:1
P038|埃塞俄比亚咖啡豆250g|Ethiopia Beans 250g|retail|beans|9800|3200|2|0.35||M020:1
P039|冷萃挂耳礼盒|Cold Brew Drip Gift Box|retail|drip_bag|7900|2400|1||0.6|M021:1
P040|澳白双份|Double Flat White|coffee|flat_white|2800|850|2|0.5||M001:36,M002:150,HOT
P041|燕麦冷萃|Oat Cold Brew|coffee|cold_brew|2500|780|2|0.15||M010:200,M003:80,COLD
P042|焦糖布丁|Caramel Pudding|food|dessert|1900|560|2|0.75||M019:1,M005:10
"""


def _parse_menu(text: str) -> tuple[Product, ...]:
    products = []
    for line in text.strip().splitlines():
        pid, name, name_en, cat, sub, cny, sgd, pop, launch, retire, bom = line.split("|")
        bom = bom.replace("HOT", _HOT).replace("COLD", _COLD)
        products.append(
            Product(
                pid,
                name,
                name_en,
                cat,
                sub,
                int(cny),
                int(sgd),
                float(pop),
                float(launch) if launch else None,
                float(retire) if retire else None,
                bom,
            )
        )
    return tuple(products)


PRODUCTS: tuple[Product, ...] = _parse_menu(_MENU)


@dataclass(frozen=True)
class Catalog:
    """Arrays over products (axis P) and materials (axis M) for vectorised simulation."""

    products: tuple[Product, ...]
    materials: tuple[Material, ...]
    category: np.ndarray  # int (P,) index into CATEGORIES
    popularity: np.ndarray  # float (P,)
    price: np.ndarray  # int64 (2, P): CNY, SGD minor units
    first_day: np.ndarray  # int (P,) first sale day (relative to start; may be negative)
    last_day: np.ndarray  # int (P,) last sale day (inclusive); large when not retired
    bom: np.ndarray  # int64 (P, M) base units per product unit

    def on_sale(self, day: int) -> np.ndarray:
        return (self.first_day <= day) & (day <= self.last_day)


NEVER = 1_000_000


def build_catalog(days: int) -> Catalog:
    material_index = {m.material_id: i for i, m in enumerate(MATERIALS)}
    bom = np.zeros((len(PRODUCTS), len(MATERIALS)), dtype=np.int64)
    for p, product in enumerate(PRODUCTS):
        for part in product.bom.split(","):
            material, quantity = part.split(":")
            bom[p, material_index[material]] += int(quantity)
    # Launches and retirements scale with the horizon so even a three-week chain has both.
    first = [
        -(400 + 23 * p) if product.launch is None else int(product.launch * days)
        for p, product in enumerate(PRODUCTS)
    ]
    last = [NEVER if product.retire is None else int(product.retire * days) for product in PRODUCTS]
    return Catalog(
        products=PRODUCTS,
        materials=MATERIALS,
        category=np.array([CATEGORIES.index(p.category) for p in PRODUCTS]),
        popularity=np.array([p.popularity for p in PRODUCTS], dtype=np.float64),
        price=np.array([[p.price_cny for p in PRODUCTS], [p.price_sgd for p in PRODUCTS]]),
        first_day=np.array(first),
        last_day=np.array(last),
        bom=bom,
    )


def day_date(start: dt.date, day: int) -> dt.date:
    return start + dt.timedelta(days=day)
