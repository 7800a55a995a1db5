"""A seeded synthetic omnichannel retailer with its ground truth.

``generate(out_dir, customers=10_000, seed=42, as_of=date(2026, 10, 31))`` writes "Jardin
Gourmand", a French home & garden and gourmet retailer (12 stores, a web shop, an app), from
1 January two years before ``as_of`` to ``as_of``::

    store/      magasins.csv clients.csv tickets.csv lignes.csv consentements.csv
                (POS and loyalty: ';', Latin-1, decimal comma, dd/mm/yyyy)
    catalogue/  articles.tsv                              (product information, tab)
    web/        accounts.csv orders.jsonl order_items.csv consents.csv
                events.jsonl deliveries.jsonl             (web shop; app orders too)
    app/        users.jsonl push_consents.jsonl events.jsonl
    emailing/   contacts.csv activity.jsonl               (e-mail platform)
    service/    requesters.csv events.jsonl               (tickets and surveys)
    mappings/   <source>.yaml                             (the SourceConfig of each source)
    truth/      persons.parquet records.parquet orders.parquet planted.json

``DemoManifest.files`` lists the input files in ingestion order with their kind and source,
and ``DemoManifest.sources`` the mappings, ready for ``sources:`` in ``parcours.yaml``.
``BEHAVIOURS`` (and the other constants of ``parcours.demo.behaviours``) hold the planted
parameters that tests compare measured KPIs against; ``truth/planted.json`` repeats them
with the values realised in the generated data and the planted bad rows.

Choices worth knowing:

- App orders go through the web shop: they are in ``web/orders.jsonl`` with
  ``device: app`` and the buyer's web account. The app's own user ids appear in its user
  directory and its events, whose ``purchase`` event carries the web-shop order id.
- Every time is UTC; the store export writes it without a zone.
- Each source's customer ids are its own: the e-mail platform and the service desk have
  their own contact ids, and export their contacts as customer records.
- The planted bad rows are extra rows of the store export (``tickets.csv``,
  ``lignes.csv``): every real order and line is valid, and is in the truth.
"""

from parcours.demo.behaviours import BEHAVIOURS
from parcours.demo.generator import DemoManifest, generate
from parcours.demo.sources import DemoFile

__all__ = ["BEHAVIOURS", "DemoFile", "DemoManifest", "generate"]
