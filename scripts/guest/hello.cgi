#!/bin/sh
# The guest's hello REST API: GET / (index.cgi) and GET /cgi-bin/hello.
if [ "$REQUEST_METHOD" != GET ] && [ "$REQUEST_METHOD" != HEAD ]; then
  printf 'Status: 405 Method Not Allowed\r\nContent-Type: application/json\r\n\r\n{"error":"method not allowed"}\n'
  exit 0
fi
printf 'Content-Type: application/json\r\n\r\n{"hello":"%s"}\n' "$(hostname)"
