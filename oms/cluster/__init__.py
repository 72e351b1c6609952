"""The split deployment: one ``oms engine`` process per account on PostgreSQL (commands as rows,
fenced by an advisory lock and a lease epoch) and stateless ``oms web`` workers."""
