/**
 * Registers the drivers that ship with jobwire (see `src/driver/registry.ts`). Each import is
 * one folder's registration and loads no database library; a new driver adds its line here.
 */
import './sqlite/register.js';
import './postgres/register.js';
