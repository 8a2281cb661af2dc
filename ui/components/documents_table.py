"""The documents table: sortable columns on wide screens, one card per document on narrow
ones (no sideways scrolling), tags as chips, the pipeline's progress in words."""

from typing import Any

from nicegui import ui

NARROW_PX = 600
_HIDE_NARROW = {"classes": "gt-sm", "headerClasses": "gt-sm"}
COLUMNS: list[dict[str, Any]] = [
    {"name": "title", "label": "Title", "field": "title", "align": "left", "sortable": True},
    {"name": "state", "label": "State", "field": "state", "align": "left", "sortable": True},
    {"name": "type", "label": "Type", "field": "type", "sortable": True, **_HIDE_NARROW},
    {"name": "source", "label": "Source", "field": "source", "sortable": True, **_HIDE_NARROW},
    {"name": "size", "label": "Size", "field": "size", "sortable": True, **_HIDE_NARROW},
    {"name": "pages", "label": "Pages", "field": "pages", "sortable": True, **_HIDE_NARROW},
    {"name": "created_at", "label": "Added", "field": "created_at", "sortable": True},
]
_TAGS = """
<span v-for="tag in props.row.tags" :key="tag">
  <a :href="'/documents?tag=' + encodeURIComponent(tag)" class="q-mr-xs"
     ><q-badge outline color="blue-grey-7" :label="tag" data-testid="doc-tag" /></a>
</span>
"""
_TITLE_CELL = f"""
<q-td :props="props">
  <a :href="'/documents/' + props.row.id" class="text-primary" :data-testid="'doc-' + props.row.id"
     >{{{{ props.row.title }}}}</a>
  <div v-if="props.row.tags.length">{_TAGS}</div>
  <div v-if="props.row.problem" class="text-negative text-caption">{{{{ props.row.problem }}}}</div>
</q-td>
"""
_STATE_CELL = """
<q-td :props="props">
  <q-badge :color="props.row.state_color" :label="props.row.state" />
  <div v-if="props.row.progress" class="text-caption opacity-70" data-testid="doc-progress"
       >{{ props.row.progress }}</div>
</q-td>
"""
_SIZE_CELL = '<q-td :props="props">{{ props.row.size_text }}</q-td>'
_DATE_CELL = '<q-td :props="props">{{ props.row.date_text }}</q-td>'
# one card per document in grid mode (narrow windows)
_ITEM = f"""
<div class="q-pa-xs col-12">
  <q-card flat bordered data-testid="doc-card">
    <q-card-section class="q-pa-sm">
      <div class="row items-center no-wrap q-gutter-x-sm">
        <q-checkbox dense v-model="props.selected" :aria-label="'Select ' + props.row.title" />
        <a :href="'/documents/' + props.row.id" class="text-primary col ellipsis"
           :data-testid="'doc-' + props.row.id">{{{{ props.row.title }}}}</a>
        <q-badge :color="props.row.state_color" :label="props.row.state" />
      </div>
      <div class="text-caption opacity-70"
        >{{{{ props.row.date_text }}}} · {{{{ props.row.size_text }}}}<span
          v-if="props.row.progress"> · {{{{ props.row.progress }}}}</span></div>
      <div v-if="props.row.tags.length">{_TAGS}</div>
      <div v-if="props.row.problem" class="text-negative text-caption"
        >{{{{ props.row.problem }}}}</div>
    </q-card-section>
  </q-card>
</div>
"""


def documents_table(selectable: bool) -> ui.table:
    """The empty table; the page sets its rows."""
    table = (
        ui.table(
            rows=[],
            columns=COLUMNS,
            row_key="id",
            selection="multiple" if selectable else None,
            pagination={"rowsPerPage": 25, "sortBy": "created_at", "descending": True},
        )
        .classes("w-full")
        .props("flat bordered data-testid=documents-table")
    )
    # cards instead of columns below NARROW_PX (decided when the page is drawn)
    table.props(f':grid="window.innerWidth < {NARROW_PX}"')
    for slot, template in (
        ("body-cell-title", _TITLE_CELL),
        ("body-cell-state", _STATE_CELL),
        ("body-cell-size", _SIZE_CELL),
        ("body-cell-created_at", _DATE_CELL),
        ("item", _ITEM),
    ):
        table.add_slot(slot, template)
    return table
