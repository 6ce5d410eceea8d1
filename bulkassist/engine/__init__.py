"""The validation engine: a `Table` and a domain spec in, a `Report` out.

Headers are matched to fields (`headers`), every column is checked by its kind (`bulkassist.kinds`),
cross-field rules run (`rules`), select-list values get ranked suggestions (`suggestions`,
`selectlists`), and the result is one columnar `Report` (`report`) that every front end reads.
"""
