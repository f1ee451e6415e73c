/* Files compiled into the binary (cmake/embed_files.cmake): the connect
 * webview's templates, from web/. */
#ifndef LATCHKEY_EMBEDDED_H
#define LATCHKEY_EMBEDDED_H

typedef struct embedded_file {
    const char *name; /* NULL ends the array */
    const char *text;
} embedded_file;

extern const embedded_file web_templates[];

#endif
