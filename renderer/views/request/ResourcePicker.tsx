import { useId, useMemo, useState } from 'react';
import type { ResourceView } from '../../../api/schemas.js';
import type { RoleView } from './policy.js';

export interface RoleChoice {
  readonly resource: ResourceView;
  readonly role: RoleView;
}

const choiceKey = (choice: RoleChoice): string => `${choice.resource.id}/${choice.role.name}`;
export const choiceLabel = (choice: RoleChoice): string => `${choice.resource.name} · ${choice.role.name}`;

/** Every role I may ask for, in catalog order. */
export function requestableChoices(catalog: readonly ResourceView[]): RoleChoice[] {
  return catalog.flatMap((resource) =>
    resource.roles.filter((role) => role.canRequest).map((role) => ({ resource, role })),
  );
}

/** The choices whose resource, kind, role or description contain every word typed. */
export function filterChoices(choices: readonly RoleChoice[], query: string): RoleChoice[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...choices];
  return choices.filter((choice) => {
    const haystack = [
      choice.resource.name,
      choice.resource.id,
      choice.resource.kind,
      choice.role.name,
      choice.role.description,
    ]
      .join(' ')
      .toLowerCase();
    return words.every((word) => haystack.includes(word));
  });
}

/**
 * A searchable resource-and-role picker, keyboard first (the ARIA combobox pattern): type to filter,
 * ArrowDown/ArrowUp to move, Enter to choose, Escape to close the list (a second Escape closes the dialog).
 */
export function ResourcePicker({
  choices,
  selected,
  onSelect,
  inputRef,
}: {
  readonly choices: readonly RoleChoice[];
  readonly selected: RoleChoice | null;
  readonly onSelect: (choice: RoleChoice | null) => void;
  readonly inputRef?: React.RefObject<HTMLInputElement | null>;
}) {
  const id = useId();
  const listId = `${id}-list`;
  const [query, setQuery] = useState(selected ? choiceLabel(selected) : '');
  const [open, setOpen] = useState(selected === null);
  const [active, setActive] = useState(0);
  const filtered = useMemo(
    () => (selected && query === choiceLabel(selected) ? [...choices] : filterChoices(choices, query)),
    [choices, query, selected],
  );
  const activeChoice = open ? filtered[Math.min(active, filtered.length - 1)] : undefined;
  const optionId = (choice: RoleChoice): string => `${id}-${choiceKey(choice)}`;

  const choose = (choice: RoleChoice): void => {
    onSelect(choice);
    setQuery(choiceLabel(choice));
    setOpen(false);
  };
  const move = (delta: number): void => {
    if (!open) {
      setOpen(true);
      return;
    }
    const next =
      (Math.min(active, filtered.length - 1) + delta + filtered.length) % Math.max(1, filtered.length);
    setActive(next);
    const option = filtered[next];
    if (option) document.getElementById(optionId(option))?.scrollIntoView({ block: 'nearest' });
  };

  const onKeyDown = (event: React.KeyboardEvent<HTMLInputElement>): void => {
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        move(1);
        return;
      case 'ArrowUp':
        event.preventDefault();
        move(-1);
        return;
      case 'Enter':
        if (open && activeChoice) {
          event.preventDefault();
          choose(activeChoice);
        }
        return;
      case 'Escape':
        if (open) {
          // Closes the list only; the dialog stays.
          event.preventDefault();
          event.stopPropagation();
          setOpen(false);
          if (selected) setQuery(choiceLabel(selected));
        }
        return;
    }
  };

  return (
    <div className="picker">
      <label htmlFor={id} className="field-label">
        Resource and role
      </label>
      <input
        ref={inputRef}
        id={id}
        className="input"
        type="text"
        role="combobox"
        aria-expanded={open}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={activeChoice ? optionId(activeChoice) : undefined}
        placeholder="Search resources, e.g. prod, database, admin"
        autoComplete="off"
        spellCheck={false}
        value={query}
        onChange={(event) => {
          setQuery(event.target.value);
          setActive(0);
          setOpen(true);
          if (selected) onSelect(null);
        }}
        onKeyDown={onKeyDown}
        onClick={() => {
          setOpen(true);
        }}
      />
      <ul id={listId} role="listbox" aria-label="Resources and roles" className="picker-list" hidden={!open}>
        {filtered.length === 0 ? (
          <li className="picker-empty" role="presentation">
            Nothing matches “{query}”.
          </li>
        ) : (
          filtered.map((choice) => (
            <li
              key={choiceKey(choice)}
              id={optionId(choice)}
              role="option"
              aria-selected={choice === activeChoice}
              className="picker-option"
              onMouseDown={(event) => {
                event.preventDefault(); // keep focus in the input
                choose(choice);
              }}
            >
              <span className="picker-resource">{choice.resource.name}</span>
              <span className="role-tag">{choice.role.name}</span>
              <span className="picker-hint">
                {choice.role.approval.mode === 'auto' ? 'Granted at once' : 'Needs approval'}
              </span>
            </li>
          ))
        )}
      </ul>
    </div>
  );
}
