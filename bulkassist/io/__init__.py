"""Files in and out: reading CSV / XLSX / frames into text tables, and writing CSV and XLSX.

`reading` turns what a person sends into a `Table` of text; `cells` is the one guard for what may
become a formula; the writers produce annotated workbooks, templates, results and exports.
"""
