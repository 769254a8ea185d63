"""Alembic environment: always runs on the connection handed over by Database.migrate."""

from alembic import context

from bot.core.store.schema import declared, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    include_object=declared,
)
with context.begin_transaction():
    context.run_migrations()
