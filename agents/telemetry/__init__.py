"""What agents use to be observed: log context (request, tenant, run, step ids) and the
metric families with one recording function per event. Built by the composition root and
passed in; agents never import the app."""
