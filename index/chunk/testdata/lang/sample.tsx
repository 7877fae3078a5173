import React from "react";

type Props = { title: string };

export function Header({ title }: Props) {
  return <h1 className="x">{title}</h1>;
}

export const App = () => {
  return (
    <div>
      <Header title="hi" />
    </div>
  );
};
