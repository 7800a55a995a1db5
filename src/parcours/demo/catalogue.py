"""The demo retailer's stores, the places its customers live, and its catalogue.

"Jardin Gourmand" is a French home & garden and gourmet retailer: twelve stores (eight in
cities, four in tourist areas), a web shop and an app, and 200 products in five families.
The catalogue does not depend on the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa

BRAND = "Jardin Gourmand"
WEB_DOMAIN = "www.jardin-gourmand.fr"


@dataclass(frozen=True)
class Store:
    """A physical store."""

    code: str
    name: str
    city: str
    postal_code: str
    region: str
    tourist_area: bool


STORES: tuple[Store, ...] = (
    Store("M01", "Jardin Gourmand Paris Bastille", "Paris", "75011", "Île-de-France", False),
    Store("M02", "Jardin Gourmand Paris Convention", "Paris", "75015", "Île-de-France", False),
    Store(
        "M03", "Jardin Gourmand Boulogne", "Boulogne-Billancourt", "92100", "Île-de-France", False
    ),
    Store("M04", "Jardin Gourmand Lyon Presqu'île", "Lyon", "69002", "Auvergne-Rhône-Alpes", False),
    Store("M05", "Jardin Gourmand Lille", "Lille", "59000", "Hauts-de-France", False),
    Store("M06", "Jardin Gourmand Bordeaux", "Bordeaux", "33000", "Nouvelle-Aquitaine", False),
    Store("M07", "Jardin Gourmand Nantes", "Nantes", "44000", "Pays de la Loire", False),
    Store("M08", "Jardin Gourmand Toulouse", "Toulouse", "31000", "Occitanie", False),
    Store("M09", "Jardin Gourmand Saint-Malo Intra-Muros", "Saint-Malo", "35400", "Bretagne", True),
    Store(
        "M10",
        "Jardin Gourmand Annecy Vieille Ville",
        "Annecy",
        "74000",
        "Auvergne-Rhône-Alpes",
        True,
    ),
    Store("M11", "Jardin Gourmand Biarritz", "Biarritz", "64200", "Nouvelle-Aquitaine", True),
    Store("M12", "Jardin Gourmand Antibes", "Antibes", "06600", "Provence-Alpes-Côte d'Azur", True),
)
STORE_INDEX = {s.code: i for i, s in enumerate(STORES)}
TOURIST_STORES = tuple(i for i, s in enumerate(STORES) if s.tourist_area)
URBAN_STORES = tuple(i for i, s in enumerate(STORES) if not s.tourist_area)


@dataclass(frozen=True)
class Area:
    """Where customers live: a city's postal codes, its region, and the store they use.

    ``local_store`` is true when the store is in reach for weekly shopping; customers of
    other areas shop mostly online.
    """

    city: str
    postal_codes: tuple[str, ...]
    region: str
    weight: float
    store: str
    local_store: bool


_IDF = "Île-de-France"
_ARA = "Auvergne-Rhône-Alpes"
_NAQ = "Nouvelle-Aquitaine"
_PACA = "Provence-Alpes-Côte d'Azur"
AREAS: tuple[Area, ...] = (
    Area(
        "Paris",
        ("75003", "75004", "75010", "75011", "75012", "75019", "75020"),
        _IDF,
        7.0,
        "M01",
        True,
    ),
    Area(
        "Paris",
        ("75005", "75006", "75007", "75014", "75015", "75016", "75017"),
        _IDF,
        7.0,
        "M02",
        True,
    ),
    Area("Boulogne-Billancourt", ("92100",), _IDF, 2.0, "M03", True),
    Area("Issy-les-Moulineaux", ("92130",), _IDF, 1.2, "M03", True),
    Area("Vincennes", ("94300",), _IDF, 1.0, "M01", True),
    Area("Montreuil", ("93100",), _IDF, 1.5, "M01", True),
    Area("Versailles", ("78000",), _IDF, 1.2, "M03", True),
    Area("Lyon", ("69001", "69002", "69003", "69006", "69007"), _ARA, 5.0, "M04", True),
    Area("Villeurbanne", ("69100",), _ARA, 1.5, "M04", True),
    Area("Lille", ("59000", "59800"), "Hauts-de-France", 3.0, "M05", True),
    Area("Villeneuve-d'Ascq", ("59650",), "Hauts-de-France", 1.0, "M05", True),
    Area("Bordeaux", ("33000", "33100", "33200", "33300"), _NAQ, 3.5, "M06", True),
    Area("Mérignac", ("33700",), _NAQ, 1.0, "M06", True),
    Area("Nantes", ("44000", "44100", "44200", "44300"), "Pays de la Loire", 3.0, "M07", True),
    Area("Rezé", ("44400",), "Pays de la Loire", 0.8, "M07", True),
    Area("Toulouse", ("31000", "31200", "31300", "31400", "31500"), "Occitanie", 3.5, "M08", True),
    Area("Saint-Malo", ("35400",), "Bretagne", 0.6, "M09", True),
    Area("Annecy", ("74000",), _ARA, 0.8, "M10", True),
    Area("Biarritz", ("64200",), _NAQ, 0.5, "M11", True),
    Area("Bayonne", ("64100",), _NAQ, 0.6, "M11", True),
    Area("Antibes", ("06600",), _PACA, 0.7, "M12", True),
    Area("Nice", ("06000", "06100", "06200", "06300"), _PACA, 2.5, "M12", True),
    Area("Rennes", ("35000", "35200", "35700"), "Bretagne", 2.0, "M09", False),
    Area("Marseille", ("13001", "13006", "13008", "13012"), _PACA, 3.5, "M12", False),
    Area("Montpellier", ("34000", "34070"), "Occitanie", 2.0, "M08", False),
    Area("Strasbourg", ("67000", "67100"), "Grand Est", 2.0, "M05", False),
    Area("Grenoble", ("38000", "38100"), _ARA, 1.5, "M10", False),
    Area("Dijon", ("21000",), "Bourgogne-Franche-Comté", 1.2, "M04", False),
    Area("Reims", ("51100",), "Grand Est", 1.2, "M05", False),
    Area("Tours", ("37000",), "Centre-Val de Loire", 1.2, "M07", False),
    Area("Clermont-Ferrand", ("63000",), _ARA, 1.2, "M04", False),
    Area("Rouen", ("76000",), "Normandie", 1.2, "M02", False),
    Area("Caen", ("14000",), "Normandie", 1.0, "M02", False),
)


@dataclass(frozen=True)
class Category:
    """A product category.

    ``kind`` is ``consumable`` (bought again on a cycle of ``renewal_days``), ``durable``
    (bought once), ``festive`` (sold around Christmas, Easter and Mother's Day) or
    ``everyday``.
    """

    code: str
    label: str
    family: str
    rayon: str  # the store system's department code
    kind: str
    renewal_days: int | None = None


CATEGORIES: tuple[Category, ...] = (
    Category("cafe", "Café", "epicerie_fine", "R01", "consumable", 30),
    Category("epicerie", "Épicerie fine", "epicerie_fine", "R02", "everyday"),
    Category("cave", "Cave", "epicerie_fine", "R03", "everyday"),
    Category("foie_gras", "Foie gras", "fetes", "R04", "festive"),
    Category("chocolat", "Chocolats", "fetes", "R05", "festive"),
    Category("coffrets", "Coffrets cadeaux", "fetes", "R06", "festive"),
    Category("croquettes", "Croquettes et pâtées", "animalerie", "R07", "consumable", 45),
    Category("engrais", "Engrais et terreaux", "jardin", "R08", "consumable", 60),
    Category("plantes", "Plantes", "jardin", "R09", "everyday"),
    Category("outillage", "Outillage de jardin", "jardin", "R10", "durable"),
    Category("motoculture", "Motoculture", "jardin", "R11", "durable"),
    Category("decoration", "Décoration", "maison", "R12", "everyday"),
    Category("mobilier", "Mobilier", "maison", "R13", "durable"),
)
CATEGORY_INDEX = {c.code: i for i, c in enumerate(CATEGORIES)}

_ORIGINS = (
    "Éthiopie Moka",
    "Colombie Supremo",
    "Brésil Santos",
    "Guatemala Antigua",
    "Pérou bio",
    "Honduras",
    "Inde Malabar",
    "Kenya AA",
)
_PRODUCTS: dict[str, tuple[tuple[str, float], ...]] = {
    "cafe": tuple(
        (f"Café {o} {fmt}", round(price + 0.6 * i, 2))
        for fmt, price in (("grains 1 kg", 24.9), ("moulu 250 g", 6.5))
        for i, o in enumerate(_ORIGINS)
    ),
    "epicerie": (
        ("Confiture de fraises 370 g", 5.9),
        ("Confiture d'abricots 370 g", 5.9),
        ("Miel de lavande 500 g", 11.5),
        ("Miel d'acacia 250 g", 8.9),
        ("Huile d'olive vierge extra 75 cl", 14.9),
        ("Vinaigre balsamique 25 cl", 8.5),
        ("Pâtes artisanales 500 g", 3.9),
        ("Risotto aux cèpes 250 g", 6.5),
        ("Sablés pur beurre", 4.5),
        ("Galettes bretonnes", 3.8),
        ("Sel de Guérande 250 g", 4.2),
        ("Moutarde à l'ancienne", 3.5),
        ("Tapenade noire", 5.5),
        ("Rillettes de canard", 6.9),
        ("Sardines millésimées", 7.5),
        ("Caramel au beurre salé", 6.8),
        ("Thé vert au jasmin", 8.9),
        ("Infusion verveine", 5.9),
        ("Chips artisanales", 2.9),
        ("Olives de Nyons", 6.2),
        ("Terrine de campagne", 5.8),
        ("Soupe de poissons 780 ml", 7.9),
        ("Crème de marrons", 4.9),
        ("Nougat de Montélimar", 7.2),
    ),
    "cave": (
        ("Bordeaux rouge AOC 75 cl", 12.5),
        ("Bourgogne pinot noir", 18.9),
        ("Côtes du Rhône", 9.5),
        ("Muscadet sur lie", 8.9),
        ("Chablis", 19.5),
        ("Sancerre blanc", 21.0),
        ("Crozes-Hermitage", 17.5),
        ("Rosé de Provence", 11.9),
        ("Cidre brut fermier", 4.9),
        ("Bière blonde artisanale", 3.5),
        ("Bière ambrée artisanale", 3.6),
        ("Pommeau de Normandie", 16.9),
        ("Calvados 70 cl", 34.9),
        ("Jus de pomme artisanal", 3.9),
        ("Vin de Savoie", 10.9),
        ("Madiran", 13.9),
    ),
    "foie_gras": (
        ("Foie gras de canard entier 180 g", 32.0),
        ("Foie gras de canard entier 300 g", 49.0),
        ("Foie gras d'oie entier 180 g", 45.0),
        ("Bloc de foie gras 200 g", 24.9),
        ("Foie gras mi-cuit 250 g", 39.9),
        ("Foie gras au torchon 400 g", 69.0),
        ("Médaillon de foie gras truffé", 54.0),
        ("Terrine de foie gras 500 g", 79.0),
        ("Foie gras aux figues 130 g", 22.5),
        ("Foie gras au Sauternes 180 g", 38.0),
        ("Lobe de foie gras cru 500 g", 59.0),
        ("Coffret foie gras et confit", 95.0),
    ),
    "chocolat": (
        ("Ballotin de pralinés 250 g", 19.9),
        ("Ballotin de pralinés 500 g", 36.0),
        ("Truffes au chocolat 200 g", 15.9),
        ("Oeufs de Pâques assortis", 14.5),
        ("Lapin en chocolat au lait", 12.5),
        ("Friture de Pâques 250 g", 9.9),
        ("Orangettes 200 g", 14.5),
        ("Calendrier de l'Avent", 24.9),
        ("Marrons glacés 250 g", 22.9),
        ("Coffret grands crus 24 pièces", 32.0),
        ("Cloche de Pâques garnie", 18.5),
        ("Poule en chocolat noir", 16.5),
        ("Pâtes de fruits 300 g", 13.9),
        ("Bouchées pralinées x12", 11.9),
    ),
    "coffrets": (
        ("Coffret pétillant brut et deux flûtes", 45.0),
        ("Coffret crémant de Loire", 39.0),
        ("Coffret méthode traditionnelle rosé", 59.0),
        ("Coffret gourmand Prestige", 149.0),
        ("Coffret apéritif", 49.0),
        ("Panier garni Terroir", 89.0),
        ("Coffret découverte épices", 35.0),
        ("Coffret thés de Noël", 32.0),
        ("Coffret whisky et verres", 79.0),
        ("Coffret vins du Sud", 65.0),
        ("Coffret pétillant magnum", 99.0),
        ("Coffret caviar d'Aquitaine", 120.0),
    ),
    "croquettes": (
        ("Croquettes chien adulte 3 kg", 21.0),
        ("Croquettes chien adulte 12 kg", 58.0),
        ("Croquettes chat stérilisé 2 kg", 19.0),
        ("Croquettes chat 7 kg", 44.0),
        ("Croquettes chiot 3 kg", 24.0),
        ("Croquettes chien senior 12 kg", 61.0),
        ("Croquettes chat senior 3 kg", 27.0),
        ("Pâtée chat x12", 11.9),
        ("Pâtée chien x6", 9.9),
        ("Litière végétale 10 L", 12.9),
        ("Croquettes sans céréales chien 10 kg", 62.0),
        ("Croquettes sans céréales chat 4 kg", 34.0),
        ("Friandises chien", 6.5),
        ("Granulés lapin 2 kg", 8.9),
    ),
    "engrais": (
        ("Engrais gazon 10 kg", 29.9),
        ("Engrais universel 2 kg", 12.9),
        ("Engrais tomates 1 kg", 8.9),
        ("Engrais rosiers 1 kg", 9.5),
        ("Engrais agrumes 1 L", 10.9),
        ("Engrais orchidées 250 ml", 6.9),
        ("Corne broyée 1 kg", 9.9),
        ("Sang séché 1 kg", 9.5),
        ("Purin d'ortie 1 L", 7.9),
        ("Engrais géraniums 1 L", 8.5),
        ("Terreau universel 40 L", 9.9),
        ("Compost bio 50 L", 11.9),
    ),
    "plantes": (
        ("Rosier buisson", 14.9),
        ("Lavande vraie pot 2 L", 7.9),
        ("Olivier 1 m", 45.0),
        ("Hortensia pot 5 L", 19.9),
        ("Géranium lierre", 4.9),
        ("Plant de tomate", 2.9),
        ("Basilic en pot", 3.5),
        ("Fraisier x6", 9.9),
        ("Bambou en pot", 29.0),
        ("Érable du Japon", 39.0),
        ("Buis boule", 24.9),
        ("Orchidée", 16.9),
        ("Camélia", 22.0),
        ("Clématite", 12.9),
        ("Bulbes de tulipes x20", 8.5),
        ("Jasmin étoilé", 15.9),
        ("Citronnier 80 cm", 42.0),
        ("Fougère", 9.9),
        ("Graminée ornementale", 11.9),
        ("Aromatiques x3", 8.9),
    ),
    "outillage": (
        ("Sécateur professionnel", 39.0),
        ("Taille-haie électrique", 129.0),
        ("Taille-haie sur batterie", 189.0),
        ("Bêche forgée", 34.0),
        ("Râteau à gazon", 19.0),
        ("Cisaille à haie", 29.0),
        ("Tuyau d'arrosage 25 m", 39.0),
        ("Enrouleur de tuyau", 59.0),
        ("Pulvérisateur 5 L", 29.0),
        ("Brouette 100 L", 69.0),
        ("Tronçonneuse sur batterie", 249.0),
        ("Souffleur de feuilles", 119.0),
        ("Coupe-bordure", 89.0),
        ("Scie d'élagage", 27.0),
        ("Escabeau 3 marches", 49.0),
        ("Kit outils de jardin", 45.0),
    ),
    "motoculture": (
        ("Robot tondeuse 500 m²", 899.0),
        ("Robot tondeuse 1000 m²", 1290.0),
        ("Tondeuse thermique 46 cm", 349.0),
        ("Tondeuse sur batterie 40 cm", 399.0),
        ("Débroussailleuse thermique", 279.0),
        ("Scarificateur électrique", 189.0),
        ("Motobineuse", 449.0),
        ("Broyeur de végétaux", 329.0),
        ("Nettoyeur haute pression", 259.0),
        ("Tondeuse hélicoïdale", 119.0),
    ),
    "decoration": (
        ("Bougie parfumée figue", 14.9),
        ("Photophore en verre", 12.0),
        ("Plaid en laine", 39.0),
        ("Coussin en lin", 24.0),
        ("Vase en céramique", 29.0),
        ("Guirlande lumineuse", 19.0),
        ("Miroir en rotin", 59.0),
        ("Lanterne en métal", 34.0),
        ("Assiettes en grès x4", 36.0),
        ("Nappe en coton", 29.0),
        ("Diffuseur de parfum", 22.0),
        ("Cadre photo", 9.9),
        ("Panier en osier", 25.0),
        ("Pot en terre cuite", 8.5),
        ("Tapis en jute", 49.0),
        ("Horloge murale", 39.0),
        ("Bougeoir en laiton", 18.0),
        ("Corbeille à fruits", 21.0),
        ("Torchons lot de 3", 12.9),
        ("Couronne de porte", 24.0),
    ),
    "mobilier": (
        ("Table de jardin en teck", 690.0),
        ("Chaise pliante", 59.0),
        ("Fauteuil en rotin", 189.0),
        ("Salon de jardin 4 places", 890.0),
        ("Parasol déporté", 249.0),
        ("Transat", 89.0),
        ("Banc en bois", 229.0),
        ("Bain de soleil", 199.0),
        ("Hamac et support", 129.0),
        ("Étagère en bois", 129.0),
        ("Table basse", 179.0),
        ("Console", 219.0),
        ("Buffet", 590.0),
        ("Banc coffre", 159.0),
    ),
}


@dataclass(frozen=True)
class Product:
    """A catalogue product."""

    sku: str
    name: str
    category: str
    price: float


def _build_products() -> tuple[Product, ...]:
    out = []
    for cat in CATEGORIES:
        prefix = cat.code[:3].upper()
        for i, (name, price) in enumerate(_PRODUCTS[cat.code], start=1):
            out.append(Product(f"{prefix}{i:03d}", name, cat.code, price))
    return tuple(out)


PRODUCTS: tuple[Product, ...] = _build_products()


class Catalogue:
    """The products as arrays, for vectorised sampling of order lines."""

    def __init__(self, products: tuple[Product, ...] = PRODUCTS) -> None:
        self.products = products
        self.category = np.array([CATEGORY_INDEX[p.category] for p in products], np.int16)
        self.price_cents = np.array([round(p.price * 100) for p in products], np.int64)
        # Products are popular in list order within their category (a Zipf-like decay).
        self.by_category: list[np.ndarray] = []
        self.popularity: list[np.ndarray] = []
        for c in range(len(CATEGORIES)):
            skus = np.flatnonzero(self.category == c)
            w = 1.0 / np.arange(1, len(skus) + 1) ** 0.7
            self.by_category.append(skus)
            self.popularity.append(w / w.sum())

    @cached_property
    def sku(self) -> pa.Array:
        """Product codes as strings."""
        return pa.array([p.sku for p in self.products], pa.string())

    @cached_property
    def category_code(self) -> pa.Array:
        """Category code of each product."""
        return pa.array([p.category for p in self.products], pa.string())

    def mean_price(self, category: int) -> float:
        """Popularity-weighted mean price of a category, in euros."""
        skus = self.by_category[category]
        return float((self.price_cents[skus] * self.popularity[category]).sum() / 100)

    def sample(self, rng: np.random.Generator, categories: np.ndarray) -> np.ndarray:
        """Draw one product of each given category, by popularity.

        Parameters
        ----------
        rng : numpy.random.Generator
            Random source.
        categories : numpy.ndarray
            Category index of each draw.

        Returns
        -------
        numpy.ndarray
            Product positions in the catalogue.
        """
        out = np.empty(len(categories), np.int64)
        for c in np.unique(categories):
            where = np.flatnonzero(categories == c)
            out[where] = rng.choice(self.by_category[c], size=len(where), p=self.popularity[c])
        return out
