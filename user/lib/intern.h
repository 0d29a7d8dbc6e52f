/* SPDX-License-Identifier: GPL-2.0 */
/* Interned strings: one copy of each, kept for the life of the process, comparable by pointer. */
#ifndef LEAKSCOPE_LIB_INTERN_H
#define LEAKSCOPE_LIB_INTERN_H

const char *intern(const char *str);

#endif
