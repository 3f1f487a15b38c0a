import { Group, Loader, Paper, Text } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState, type KeyboardEvent } from 'react';
import { useNavigate } from 'react-router';
import { customersApi } from '../api/console-api';
import type { TreeNode } from '../api/types';
import { ErrorAlert } from '../ui/ErrorAlert';
import { statusLabel } from '../ui/StatusBadge';
import { customerKeys } from './queries';

/** Customers shown per level before "Load more". */
const PAGE_SIZE = 50;

/**
 * The customer hierarchy the caller may see, one level at a time: a customer's children are read
 * when it is opened, a page at a time. Click or Enter opens a customer; arrow keys move and open.
 */
export function CustomerTree() {
  const own = useLevel('own');
  const root = own.data?.pages[0]?.parent;
  return (
    <Paper withBorder p="sm" component="section" aria-labelledby="customer-tree-title">
      <Text id="customer-tree-title" fw={600} mb="xs">
        Hierarchy
      </Text>
      <ErrorAlert error={own.error} title="The hierarchy could not be loaded" />
      {own.isPending && <Loader size="sm" aria-label="Loading the hierarchy" />}
      {root && (
        <ul role="tree" aria-label="Customer hierarchy" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
          {/* The caller's own customer starts open, with the first page of its customers. */}
          <CustomerTreeItem node={root} level={1} startOpen first />
        </ul>
      )}
    </Paper>
  );
}

/** One page after another of the customers directly below `parent`. */
function useLevel(parent: number | 'own') {
  return useInfiniteQuery({
    queryKey: customerKeys.treeChildren(parent),
    queryFn: ({ pageParam }) =>
      customersApi.treeLevel({ ...(parent === 'own' ? {} : { parentId: parent }), page: pageParam, pageSize: PAGE_SIZE }),
    initialPageParam: 1,
    getNextPageParam: ({ children: c }) => (c.page * c.pageSize < c.total ? c.page + 1 : undefined),
  });
}

function CustomerTreeItem({
  node,
  level,
  startOpen = false,
  first = false,
}: {
  node: TreeNode;
  level: number;
  startOpen?: boolean;
  first?: boolean;
}) {
  const [open, setOpen] = useState(startOpen);
  const navigate = useNavigate();
  const hasChildren = node.childrenCount > 0;
  const onKeyDown = (e: KeyboardEvent<HTMLLIElement>) => {
    if (e.target !== e.currentTarget) return;
    if (e.key === 'Enter') navigate(`/customers/${node.id}`);
    else if (e.key === 'ArrowRight' && hasChildren) setOpen(true);
    else if (e.key === 'ArrowLeft') setOpen(false);
    else if (!moveFocus(e)) return;
    e.preventDefault();
  };
  return (
    <li
      role="treeitem"
      aria-level={level}
      aria-expanded={hasChildren ? open : undefined}
      data-value={node.id}
      tabIndex={first ? 0 : -1}
      onKeyDown={onKeyDown}
    >
      <Group
        gap={6}
        wrap="nowrap"
        style={{ cursor: 'pointer', paddingBlock: 2, paddingInlineStart: (level - 1) * 16 }}
        onClick={() => navigate(`/customers/${node.id}`)}
      >
        {hasChildren ? (
          <Text
            component="span"
            size="xs"
            w={14}
            aria-hidden="true"
            onClick={(e) => {
              e.stopPropagation();
              setOpen((o) => !o);
            }}
          >
            {open ? '▾' : '▸'}
          </Text>
        ) : (
          <span style={{ width: 14 }} />
        )}
        <Text size="sm" style={{ flex: 1 }}>
          {node.fullname}{' '}
          <Text span c="dimmed" size="xs">
            ({node.name})
          </Text>
        </Text>
        <Text size="xs" c={node.status === 'Failed' ? 'red.9' : 'dimmed'} style={{ whiteSpace: 'nowrap' }}>
          {node.enabled ? statusLabel(node.status) : 'Disabled'}
        </Text>
      </Group>
      {open && hasChildren && <CustomerTreeChildren parent={node} level={level + 1} own={first} />}
    </li>
  );
}

/** The customers below `parent`; a last "Load more" item reads the next page. */
function CustomerTreeChildren({ parent, level, own }: { parent: TreeNode; level: number; own: boolean }) {
  // The caller's own level is already read (with its first page of children): the same query.
  const children = useLevel(own ? 'own' : parent.id);
  const items = children.data?.pages.flatMap((p) => p.children.items) ?? [];
  const total = children.data?.pages.at(-1)?.children.total ?? parent.childrenCount;
  const more = () => void children.fetchNextPage();
  return (
    <ul role="group" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
      {children.error ? (
        <li role="treeitem" aria-level={level} tabIndex={-1} style={{ paddingInlineStart: level * 16 }}>
          <Text size="xs" c="red.9">
            The customers of {parent.fullname} could not be loaded.
          </Text>
        </li>
      ) : null}
      {items.map((c) => (
        <CustomerTreeItem key={c.id} node={c} level={level} />
      ))}
      {(children.isPending || children.hasNextPage) && (
        <li
          role="treeitem"
          aria-level={level}
          tabIndex={-1}
          onClick={more}
          onKeyDown={(e) => {
            if (e.key === 'Enter') more();
            else if (!moveFocus(e)) return;
            e.preventDefault();
          }}
          style={{ cursor: 'pointer', paddingInlineStart: (level - 1) * 16 + 20 }}
        >
          <Text size="xs" c="blue.8">
            {children.isPending || children.isFetchingNextPage ? 'Loading…' : `Load more (${items.length} of ${total} shown)`}
          </Text>
        </li>
      )}
    </ul>
  );
}

/** Up and down move the focus through the items shown (a closed customer's children are not shown). */
function moveFocus(e: KeyboardEvent<HTMLElement>): boolean {
  if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return false;
  const tree = e.currentTarget.closest('[role="tree"]');
  const items = tree ? [...tree.querySelectorAll<HTMLElement>('[role="treeitem"]')] : [];
  const next = items[items.indexOf(e.currentTarget) + (e.key === 'ArrowDown' ? 1 : -1)];
  if (!next) return false;
  next.focus();
  return true;
}
