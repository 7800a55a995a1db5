"""The hard cases of identity on hand-made records whose right answer is known."""

from __future__ import annotations

from parcours.identity import resolve
from tests.identity.hand_made import ingest_customers, keys

# A crowd of unrelated customers lets the matching model estimate its parameters.
CROWD_FIRST = ["Paul", "Anne", "Luc", "Sophie", "Marc", "Julie", "Eric", "Claire", "Hugo", "Ines"]
CROWD_LAST = ["Bernard", "Robert", "Richard", "Durand", "Lefebvre", "Garnier", "Faure", "Andre"]


def crowd(prefix: str, twice: bool) -> list[str]:
    rows = []
    for i in range(80):
        first, last = CROWD_FIRST[i % 10], CROWD_LAST[i // 10]
        pc = f"{69000 + i % 9}"
        phone = f"+3361234{i:04d}"
        email = f"{first.lower()}.{last.lower()}{i}@mail.fr"
        born = f"19{50 + i % 40}-0{1 + i % 9}-1{i % 9}"
        if twice:  # the other source: phone only, a typo for some
            rows.append(f"{prefix}{i},,{phone},{first},{last},{born},{i} rue Haute,{pc},Lyon,,")
        else:
            rows.append(
                f"{prefix}{i},{email},{phone},{first},{last},{born},{i} rue Haute,{pc},Lyon,,"
            )
    return rows


def test_hard_cases_are_resolved_as_the_people_they_are(make_workspace, tmp_path):
    ws = make_workspace()
    store = crowd("s", twice=False) + [
        # twins at one address: one last name, one birth date, other first names and emails
        "t1,lea.roux@mail.fr,+33699000001,Léa,Roux,1990-05-05,3 rue Vive,75011,Paris,C1,",
        "t2,eva.roux@mail.fr,+33699000002,Eva,Roux,1990-05-05,3 rue Vive,75011,Paris,C2,",
        # a couple sharing one email: the partner's card holds it, and no phone
        "c1,famille.blanc@mail.fr,+33699000003,Pierre,Blanc,1970-01-02,8 rue Neuve,33000,Bordeaux,C3,",  # noqa: E501
        "c2,famille.blanc@mail.fr,,Nadia,Blanc,1972-03-04,8 rue Neuve,33000,Bordeaux,C4,",
        # married: the card keeps the maiden name
        "m1,julie.petit@mail.fr,+33699000005,Julie,Petit,1985-07-08,1 rue Haute,13001,Marseille,C5,",  # noqa: E501
        # moved: the card keeps the old address
        "v1,,+33699000006,Omar,Haddad,1979-09-10,4 rue Basse,59000,Lille,C6,",
    ]
    web = crowd("w", twice=True) + [
        "wt1,lea.roux@mail.fr,,Lea,Roux,,3 rue Vive,75011,Paris,,",
        "wt2,eva.roux@mail.fr,,Eva,Roux,,3 rue Vive,75011,Paris,,",
        "wc1,famille.blanc@mail.fr,+33699000003,Pierre,Blanc,,8 rue Neuve,33000,Bordeaux,,",
        "wm1,julie.petit@mail.fr,,Julie,Martin,1985-07-08,9 av Foch,13008,Marseille,,",
        "wv1,omar.haddad@mail.fr,+33699000006,Omar,Haddad,,2 quai Ouest,44000,Nantes,,",
    ]
    ingest_customers(ws, tmp_path, "store", store)
    ingest_customers(ws, tmp_path, "web", web)
    resolve(ws)
    k = keys(ws)

    assert k["store:t1"] == k["web:wt1"] and k["store:t2"] == k["web:wt2"]
    assert k["store:t1"] != k["store:t2"], "twins merged"
    assert k["store:c1"] == k["web:wc1"]
    assert k["store:c2"] != k["store:c1"], "a couple sharing an email merged"
    assert k["store:m1"] == k["web:wm1"], "a married name lost the person"
    assert k["store:v1"] == k["web:wv1"], "a move lost the person"
    # the crowd: each store card with its web record (same phone), never two people as one
    assert all(k[f"store:s{i}"] == k[f"web:w{i}"] for i in range(80))
    assert len({k[f"store:s{i}"] for i in range(80)}) == 80
