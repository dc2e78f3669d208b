import { useTimebox } from '../state/hooks.js';
import { ExtendDialog } from '../views/access/ExtendDialog.js';
import { RequestDialog } from '../views/request/RequestDialog.js';

/** The dialog main or a button asked for, over whatever the window shows. */
export function DialogHost() {
  const dialog = useTimebox((state) => state.dialog);
  const closeDialog = useTimebox((state) => state.closeDialog);
  if (dialog === null) return null;
  if (dialog.kind === 'extend')
    return <ExtendDialog key={dialog.grantId} grantId={dialog.grantId} onClose={closeDialog} />;
  return (
    <RequestDialog
      key={`${dialog.resourceId ?? ''}/${dialog.role ?? ''}`}
      {...(dialog.resourceId === undefined ? {} : { resourceId: dialog.resourceId })}
      {...(dialog.role === undefined ? {} : { role: dialog.role })}
      onClose={closeDialog}
    />
  );
}
