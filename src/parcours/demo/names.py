"""Names, streets and e-mail domains of the demo population, with their spelling variants.

A person's name is an index into these lists. The variants a source writes (a typo, the
accents dropped, upper case) are derived per list entry or with vectorised string functions,
so records are built by indexing arrays, never by looping over people. Every character is in
Latin-1, the encoding of the store system's export.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

FIRST_NAMES_F = (
    "Marie",
    "Camille",
    "Léa",
    "Chloé",
    "Manon",
    "Emma",
    "Inès",
    "Sarah",
    "Julie",
    "Laura",
    "Hélène",
    "Nathalie",
    "Isabelle",
    "Sophie",
    "Catherine",
    "Sandrine",
    "Valérie",
    "Christine",
    "Céline",
    "Aurélie",
    "Émilie",
    "Élodie",
    "Anaïs",
    "Zoé",
    "Louise",
    "Jeanne",
    "Alice",
    "Juliette",
    "Margaux",
    "Pauline",
    "Claire",
    "Anne",
    "Françoise",
    "Martine",
    "Monique",
    "Brigitte",
    "Sylvie",
    "Agnès",
    "Gaëlle",
    "Noémie",
    "Océane",
    "Clémence",
    "Mathilde",
    "Maëlle",
    "Léna",
    "Lucie",
    "Amélie",
    "Bénédicte",
    "Geneviève",
    "Mélanie",
    "Virginie",
    "Stéphanie",
    "Séverine",
    "Élise",
    "Héloïse",
    "Charlotte",
    "Marie-Claire",
    "Anne-Sophie",
    "Emily",
    "Olivia",
    "Grace",
    "Hannah",
)
FIRST_NAMES_M = (
    "Jean",
    "Pierre",
    "Nicolas",
    "Thomas",
    "Julien",
    "Antoine",
    "Alexandre",
    "Maxime",
    "Hugo",
    "Lucas",
    "Louis",
    "Gabriel",
    "Arthur",
    "Raphaël",
    "Théo",
    "Mathéo",
    "Noé",
    "Jules",
    "Léo",
    "Paul",
    "Philippe",
    "Michel",
    "Alain",
    "Patrick",
    "Christophe",
    "Stéphane",
    "Sébastien",
    "Frédéric",
    "Jérôme",
    "François",
    "Benoît",
    "Loïc",
    "Gaël",
    "Joël",
    "Noël",
    "Hervé",
    "Thierry",
    "Laurent",
    "Olivier",
    "Éric",
    "Emmanuel",
    "Cédric",
    "Grégoire",
    "Rémi",
    "Jérémy",
    "Aurélien",
    "Bruno",
    "Didier",
    "Yves",
    "Gérard",
    "Bernard",
    "Daniel",
    "André",
    "Jean-Pierre",
    "Jean-Luc",
    "James",
    "Oliver",
    "William",
    "George",
    "David",
)
LAST_NAMES = (
    "Martin",
    "Bernard",
    "Thomas",
    "Petit",
    "Robert",
    "Richard",
    "Durand",
    "Dubois",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Lefèvre",
    "Leroy",
    "Roux",
    "David",
    "Bertrand",
    "Morel",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vincent",
    "Muller",
    "Faure",
    "André",
    "Mercier",
    "Blanc",
    "Guérin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "François",
    "Legrand",
    "Gauthier",
    "Garcia",
    "Perrin",
    "Robin",
    "Clément",
    "Morin",
    "Nicolas",
    "Henry",
    "Roussel",
    "Mathieu",
    "Gautier",
    "Masson",
    "Marchand",
    "Duval",
    "Denis",
    "Dumont",
    "Lemaire",
    "Noël",
    "Meyer",
    "Dufour",
    "Meunier",
    "Brun",
    "Blanchard",
    "Giraud",
    "Joly",
    "Rivière",
    "Lucas",
    "Brunet",
    "Gaillard",
    "Barbier",
    "Arnaud",
    "Martinez",
    "Gérard",
    "Roche",
    "Renard",
    "Schmitt",
    "Roy",
    "Leroux",
    "Colin",
    "Vidal",
    "Caron",
    "Picard",
    "Roger",
    "Fabre",
    "Aubert",
    "Lemoine",
    "Renaud",
    "Dumas",
    "Lacroix",
    "Olivier",
    "Philippe",
    "Bourgeois",
    "Pierre",
    "Benoît",
    "Rey",
    "Leclerc",
    "Payet",
    "Rolland",
    "Leclercq",
    "Guillaume",
    "Lecomte",
    "Lopez",
    "Jean",
    "Dupuy",
    "Guillot",
    "Hubert",
    "Berger",
    "Carpentier",
    "Sanchez",
    "Dupuis",
    "Moulin",
    "Louis",
    "Deschamps",
    "Huet",
    "Vasseur",
    "Perez",
    "Boucher",
    "Fleury",
    "Royer",
    "Klein",
    "Jacquet",
    "Adam",
    "Paris",
    "Poirier",
    "Marty",
    "Aubry",
    "Guyot",
    "Carré",
    "Charles",
    "Renault",
    "Charpentier",
    "Ménard",
    "Maillard",
    "Baron",
    "Bertin",
    "Bailly",
    "Hervé",
    "Schneider",
    "Fernandez",
    "Le Gall",
    "Collet",
    "Léger",
    "Bouvier",
    "Julien",
    "Prévost",
    "Millet",
    "Perrot",
    "Daniel",
    "Le Roux",
    "Cousin",
    "Germain",
    "Breton",
    "Besson",
    "Langlois",
    "Rémy",
    "Le Goff",
    "Pelletier",
    "Lévêque",
    "Perrier",
    "Leblanc",
    "Barré",
    "Lebrun",
    "Marchal",
    "Weber",
    "Mallet",
    "Hamon",
    "Boulanger",
    "Jacob",
    "Monnier",
    "Michaud",
    "Rodriguez",
    "Guichard",
    "Gillet",
    "Étienne",
    "Grondin",
    "Poulain",
    "Tessier",
    "Chevallier",
    "Collin",
    "Chauvin",
    "Da Silva",
    "Bouchet",
    "Gay",
    "Lemaître",
    "Bénard",
    "Maréchal",
    "Humbert",
    "Reynaud",
    "Antoine",
    "Hoarau",
    "Perret",
    "Barthélemy",
    "Cordier",
    "Pichon",
    "Lejeune",
    "Gilbert",
    "Lamy",
    "Delaunay",
    "Pasquier",
    "Carlier",
    "Laporte",
    "D'Almeida",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
)
STREET_TYPES = ("rue", "avenue", "boulevard", "place", "allée", "chemin", "impasse", "quai")
STREET_TYPE_SHORT = ("r.", "av.", "bd", "pl.", "all.", "ch.", "imp.", "quai")
STREET_TYPE_WEIGHTS = (0.52, 0.18, 0.08, 0.05, 0.06, 0.05, 0.04, 0.02)
STREET_NAMES = (
    "de la République",
    "Victor Hugo",
    "Jean Jaurès",
    "des Lilas",
    "du Général de Gaulle",
    "Pasteur",
    "de la Gare",
    "des Écoles",
    "du Moulin",
    "de l'Église",
    "des Tilleuls",
    "Gambetta",
    "Voltaire",
    "de la Paix",
    "du Château",
    "des Roses",
    "Émile Zola",
    "Jules Ferry",
    "Saint-Michel",
    "des Acacias",
    "du Port",
    "de Verdun",
    "Carnot",
    "Foch",
    "de la Liberté",
    "Molière",
    "des Peupliers",
    "du Stade",
    "de Bretagne",
    "des Marronniers",
    "Anatole France",
    "du Maréchal Leclerc",
    "de la Fontaine",
    "des Vignes",
    "du Levant",
    "Georges Clemenceau",
    "des Jardins",
    "du Commerce",
    "Lamartine",
    "de Provence",
)
ADDRESS_COMPLEMENTS = (
    "Appartement 12",
    "Bâtiment B",
    "Résidence Les Pins",
    "Apt 4",
    "Escalier C",
    "2e étage",
)
EMAIL_DOMAINS = (
    "gmail.com",
    "orange.fr",
    "free.fr",
    "hotmail.fr",
    "laposte.net",
    "sfr.fr",
    "yahoo.fr",
    "outlook.fr",
    "wanadoo.fr",
    "icloud.com",
)
EMAIL_DOMAIN_WEIGHTS = (0.34, 0.16, 0.1, 0.1, 0.06, 0.05, 0.06, 0.05, 0.04, 0.04)
COMPANY_DOMAINS = (
    "acme-logistique.fr",
    "cabinet-durand.fr",
    "mairie-exemple.fr",
    "groupe-horizon.com",
    "banque-regionale.fr",
    "chu-exemple.fr",
    "atelier-bois.fr",
    "transports-ouest.fr",
)

TYPO_VARIANTS = 3


def strip_accents(text: str) -> str:
    """Drop the accents of ``text`` (``Hélène`` -> ``Helene``).

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        The text without combining marks.
    """
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def typo(name: str, k: int) -> str:
    """The ``k``-th deterministic typo of ``name``: a dropped, swapped or doubled letter.

    Parameters
    ----------
    name : str
        A name of at least two letters.
    k : int
        Which typo (0, 1 or 2).

    Returns
    -------
    str
        A misspelling of ``name`` that differs from it.
    """
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    if len(name) < 3:
        return name + name[-1]
    pos = letters[(len(name) * 7 + k * 3) % len(letters)]
    pos = max(pos, 1)
    if k == 0:  # a dropped letter
        out = name[:pos] + name[pos + 1 :]
    elif k == 1:  # two letters swapped
        pos = min(pos, len(name) - 2)
        out = name[:pos] + name[pos + 1] + name[pos] + name[pos + 2 :]
    else:  # a doubled letter
        out = name[:pos] + name[pos] + name[pos:]
    return out if out != name else name + name[-1]


def email_token(name: str) -> str:
    """The e-mail spelling of a name: lower case, no accent, no space or apostrophe."""
    return "".join(c for c in strip_accents(name).lower() if c.isalnum() or c == "-")


@dataclass(frozen=True)
class NameList:
    """One list of names as arrays: spelling, typos and e-mail token per entry."""

    names: tuple[str, ...]
    weights: np.ndarray
    spelled: pa.Array  # entry i at i * (TYPO_VARIANTS + 1), its typos after it
    token: pa.Array
    initial: pa.Array

    @classmethod
    def build(cls, names: tuple[str, ...], zipf: float = 0.6) -> NameList:
        """Build the arrays of a name list; earlier names are more frequent.

        Parameters
        ----------
        names : tuple of str
            The names, most frequent first.
        zipf : float
            Exponent of the frequency decay with the rank.

        Returns
        -------
        NameList
            The list with its variants.
        """
        weights = 1.0 / np.arange(1, len(names) + 1) ** zipf
        spelled = [v for n in names for v in (n, *(typo(n, k) for k in range(TYPO_VARIANTS)))]
        tokens = [email_token(n) for n in names]
        return cls(
            names=names,
            weights=weights / weights.sum(),
            spelled=pa.array(spelled, pa.string()),
            token=pa.array(tokens, pa.string()),
            initial=pa.array([t[0] for t in tokens], pa.string()),
        )

    def spell(self, index: np.ndarray, variant: np.ndarray | int = 0) -> pa.Array:
        """Names at ``index``; ``variant`` 0 is the right spelling, 1-3 a typo.

        Parameters
        ----------
        index : numpy.ndarray
            Positions in the list.
        variant : numpy.ndarray or int
            0 for the correct spelling, 1 to 3 for one of the typos.

        Returns
        -------
        pyarrow.Array
            The names as strings.
        """
        at = np.asarray(index, np.int64) * (TYPO_VARIANTS + 1) + variant
        return self.spelled.take(pa.array(at, pa.int64()))


FIRST = NameList.build(FIRST_NAMES_F + FIRST_NAMES_M)
N_FIRST_F = len(FIRST_NAMES_F)
LAST = NameList.build(LAST_NAMES, zipf=0.8)


def ascii_text(values: pa.Array) -> pa.Array:
    """Drop the accents of every string of ``values`` (vectorised).

    Parameters
    ----------
    values : pyarrow.Array
        Strings.

    Returns
    -------
    pyarrow.Array
        The strings without combining marks.
    """
    decomposed = pc.utf8_normalize(values, form="NFD")
    return pc.replace_substring_regex(decomposed, pattern=r"\p{Mn}", replacement="")
