"""The team's knowledge: documents split by heading, stored and ranked by the database.

``KnowledgeStore`` keeps and searches it; ``add_paths`` / ``load_seeds`` read files into it;
``knowledge_tool`` is the ``search_knowledge`` tool the models call.
"""

from bot.core.knowledge.files import FileOutcome, add_paths, load_seeds
from bot.core.knowledge.store import DocumentInfo, Hit, KnowledgeStore

__all__ = ["DocumentInfo", "FileOutcome", "Hit", "KnowledgeStore", "add_paths", "load_seeds"]
