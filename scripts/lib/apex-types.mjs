// Generates TypeScript declarations for the Apex that Lightning components call: one
// `@salesforce/apex/<Class>.<method>` module per @AuraEnabled static method, and an interface in
// the global `Apex` namespace for every class with @AuraEnabled fields or properties. The LWC
// type check then fails when an Apex signature changes and a component no longer matches it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ApexErrorListener, ApexParserFactory } from '@apexdevtools/apex-parser';

const PRIMITIVES = new Map([
  ['string', 'string'],
  ['id', 'string'],
  ['integer', 'number'],
  ['long', 'number'],
  ['decimal', 'number'],
  ['double', 'number'],
  ['boolean', 'boolean'],
  ['date', 'string'],
  ['datetime', 'string'],
  ['time', 'string'],
  ['object', 'unknown'],
]);

class SyntaxErrors extends ApexErrorListener {
  constructor(file) {
    super();
    this.file = file;
  }
  apexSyntaxError(line, column, message) {
    throw new Error(`${this.file}:${line}:${column} ${message}`);
  }
}

const text = (node) => node.getText();

function annotations(modifiers) {
  return modifiers
    .map((modifier) => modifier.annotation())
    .filter(Boolean)
    .map((annotation) => text(annotation.id()).toLowerCase());
}

function isStatic(modifiers) {
  return modifiers.some((modifier) => modifier.STATIC());
}

/** Reads every class (and inner class) of the folder into {qualifiedName → members}. */
function readClasses(classesDir) {
  const classes = new Map();
  const files = readdirSync(classesDir)
    .filter((file) => file.endsWith('.cls'))
    .sort();
  for (const file of files) {
    const source = readFileSync(path.join(classesDir, file), 'utf8');
    const { parser } = ApexParserFactory.createLexerAndParser(source, new SyntaxErrors(file));
    const typeDeclaration = parser.compilationUnit().typeDeclaration();
    const declaration = typeDeclaration.classDeclaration();
    if (!declaration || annotations(typeDeclaration.modifier_list()).includes('istest')) continue;
    collectClass(declaration, [], classes);
  }
  return classes;
}

function collectClass(declaration, outerPath, classes) {
  const classPath = [...outerPath, text(declaration.id())];
  const entry = { path: classPath, fields: [], methods: [] };
  classes.set(classPath.join('.'), entry);
  for (const bodyDeclaration of declaration.classBody().classBodyDeclaration_list()) {
    const member = bodyDeclaration.memberDeclaration();
    if (!member) continue;
    const modifiers = bodyDeclaration.modifier_list();
    const aura = annotations(modifiers).includes('auraenabled');
    if (member.classDeclaration()) {
      collectClass(member.classDeclaration(), classPath, classes);
    } else if (aura && member.fieldDeclaration()) {
      const field = member.fieldDeclaration();
      for (const declarator of field.variableDeclarators().variableDeclarator_list()) {
        entry.fields.push({ name: text(declarator.id()), type: field.typeRef() });
      }
    } else if (aura && member.propertyDeclaration()) {
      const property = member.propertyDeclaration();
      entry.fields.push({ name: text(property.id()), type: property.typeRef() });
    } else if (aura && member.methodDeclaration() && isStatic(modifiers)) {
      const method = member.methodDeclaration();
      const parameterList = method.formalParameters().formalParameterList();
      entry.methods.push({
        name: text(method.id()),
        returns: method.VOID() ? null : method.typeRef(),
        parameters: (parameterList ? parameterList.formalParameter_list() : []).map((parameter) => ({
          name: text(parameter.id()),
          type: parameter.typeRef(),
        })),
      });
    }
  }
}

/** Resolves a class name as Apex does: inner classes of the enclosing classes first, then top level. */
function resolveClass(name, scopePath, classes) {
  const lowered = name.toLowerCase();
  for (let depth = scopePath.length; depth >= 0; depth -= 1) {
    const candidate = [...scopePath.slice(0, depth), name].join('.').toLowerCase();
    for (const [qualified] of classes) {
      if (qualified.toLowerCase() === candidate) return qualified;
    }
  }
  for (const [qualified] of classes) {
    if (qualified.toLowerCase() === lowered) return qualified;
  }
  return null;
}

function toTypeScript(typeRef, scopePath, classes, where) {
  const names = typeRef.typeName_list();
  const arrayDepth = typeRef.arraySubscripts() ? typeRef.arraySubscripts().LBRACK_list().length : 0;
  let result;
  const head = names[0];
  if (names.length === 1 && (head.LIST() || head.SET())) {
    const [element] = head.typeArguments().typeList().typeRef_list();
    result = `${toTypeScript(element, scopePath, classes, where)}[]`;
  } else if (names.length === 1 && head.MAP()) {
    const [, value] = head.typeArguments().typeList().typeRef_list();
    result = `Record<string, ${toTypeScript(value, scopePath, classes, where)}>`;
  } else {
    const dotted = names.map((name) => text(name)).join('.');
    const primitive = names.length === 1 ? PRIMITIVES.get(dotted.toLowerCase()) : undefined;
    if (primitive) {
      result = primitive;
    } else {
      const qualified = resolveClass(dotted, scopePath, classes);
      if (!qualified) throw new Error(`${where}: no TypeScript type for Apex type ${typeRef.getText()}`);
      result = `Apex.${qualified}`;
    }
  }
  return result + '[]'.repeat(arrayDepth);
}

// Every property is optional as well as nullable: Apex leaves a null property out of the JSON a
// component receives, so `=== null` alone misses the missing case. The types make components
// handle both shapes (`?? fallback`, `!= null`-free truthiness), and the tests feed both.
function interfaceBody(entry, classes, indent) {
  return entry.fields
    .map((field) => {
      const where = `${entry.path.join('.')}.${field.name}`;
      return `${indent}${field.name}?: ${toTypeScript(field.type, entry.path, classes, where)} | null;`;
    })
    .join('\n');
}

/** The namespace tree of classes with @AuraEnabled members, as nested `namespace`/`interface` text. */
function namespaceText(classes) {
  const root = { children: new Map(), entry: null };
  for (const entry of classes.values()) {
    if (entry.fields.length === 0) continue;
    let node = root;
    for (const segment of entry.path) {
      if (!node.children.has(segment)) node.children.set(segment, { children: new Map(), entry: null });
      node = node.children.get(segment);
    }
    node.entry = entry;
  }
  const render = (node, indent) => {
    const lines = [];
    for (const [name, child] of node.children) {
      if (child.entry) {
        lines.push(`${indent}interface ${name} {`, interfaceBody(child.entry, classes, `${indent}  `), `${indent}}`);
      }
      if (child.children.size > 0) {
        lines.push(`${indent}namespace ${name} {`, ...render(child, `${indent}  `), `${indent}}`);
      }
    }
    return lines;
  };
  return render(root, '  ');
}

export function generateApexTypes(classesDir) {
  const classes = readClasses(classesDir);
  const lines = [
    '// Generated by scripts/lwc-build.mjs from the @AuraEnabled Apex in force-app. Do not edit.',
    '',
    'declare namespace Apex {',
    ...namespaceText(classes),
    '}',
  ];
  for (const entry of classes.values()) {
    for (const method of entry.methods) {
      const where = `${entry.path.join('.')}.${method.name}`;
      const params =
        method.parameters.length === 0
          ? 'Record<string, never>'
          : `{ ${method.parameters
              .map(
                (parameter) => `${parameter.name}: ${toTypeScript(parameter.type, entry.path, classes, where)} | null`,
              )
              .join('; ')} }`;
      const returns = method.returns ? toTypeScript(method.returns, entry.path, classes, where) : 'void';
      lines.push(
        '',
        `declare module '@salesforce/apex/${entry.path.join('.')}.${method.name}' {`,
        `  const ${method.name}: ApexMethod<${params}, ${returns}>;`,
        `  export default ${method.name};`,
        '}',
      );
    }
  }
  return lines.join('\n') + '\n';
}
