"""The running service: settings, store, pseudonymiser and the configured sources, opened once.

Everything a stage needs is reached through a ``Service``; there are no module-level globals,
and nothing opens a database, a socket or a model at import time.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from functools import cached_property

from monitor.privacy import Pseudonymiser, load_or_create_key
from monitor.settings import Settings
from monitor.store import Store
from sources.base import Source
from sources.registry import SourceContext, build_source


@dataclass
class Service:
    settings: Settings
    store: Store
    pseudonymiser: Pseudonymiser
    sources: dict[str, Source]
    rng: random.Random = field(default_factory=random.Random)
    # (count, newest import) of the claims the scorer's library was built with (monitor.scoring)
    library_version: tuple | None = None

    @classmethod
    def open(cls, settings: Settings, *, rng: random.Random | None = None) -> Service:
        from alerts.routing import startup_warnings

        for line in startup_warnings(settings.alerting, settings.environment.receiver_urls):
            logging.getLogger("tension.alerts").warning(line)
        store = Store.open(settings.database_url)
        env_key = settings.environment.pseudonym_key
        key = load_or_create_key(env_key.get_secret_value() if env_key else None, settings.data_dir)
        context = SourceContext(config_dir=settings.config_dir, http=settings.main.http,
                                localities=settings.localities)
        sources = {
            config.id: build_source(config, context)
            for config in settings.sources.sources
            if config.enabled
        }
        return cls(settings, store, Pseudonymiser(key), sources, rng or random.Random())

    @cached_property
    def scorer(self):
        """The models, loaded on first use (a few seconds), never at import or start-up."""
        from classifiers.scoring import Scorer
        from monitor.scoring import library_with_claims

        scoring = self.settings.main.scoring
        library = library_with_claims(self.settings.narratives, self.store)
        return Scorer(self.settings.localities, library, threads=scoring.threads, ner=scoring.ner,
                      encoder=scoring.encoder, cache_dir=self.settings.model_cache_dir)

    @cached_property
    def contact_vault(self):
        """Seals reporters' contacts (monitor.reports); opened when the first one arrives."""
        from monitor.reports import ContactVault

        return ContactVault.from_settings(self.settings)

    def source_config(self, source_id: str):
        for config in self.settings.sources.sources:
            if config.id == source_id:
                return config
        raise KeyError(source_id)

    def close(self) -> None:
        for source in self.sources.values():
            source.close()
        self.store.close()
